"""What a record must be before it is read as a job: sizes and fleet headers (no broker)."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from bria_fleet.runtime.intake import (
    RefusedRequest,
    admit,
    attempt_of,
    due_time,
    header_problem,
)
from bria_fleet.runtime.retry_policy import RetryLater, RetryPolicy
from bria_fleet.runtime.worker_settings import WorkerSettings
from bria_fleet_contracts import ErrorInfo, InvalidRequest, parse_request

NOW = datetime(2026, 1, 1, tzinfo=UTC)
REQUEST = {"job_id": "j-1", "op": "text_to_image", "model_id": "300", "prompt": "a cat"}
parsed: list[bytes | None] = []


def _parse(raw: bytes | None) -> object:
    parsed.append(raw)
    return parse_request("generation", raw)


def _admit(value: bytes | None, **headers: str) -> object:
    return admit(
        value, b"j-1", headers, _parse, max_request_bytes=64 * 1024, due_horizon_seconds=600
    )


@pytest.mark.parametrize(
    ("text", "expected"), [("3", 3), ("0", 0), ("abc", 0), ("-1", 0), ("9" * 20, 0), ("", 0)]
)
def test_an_unreadable_attempt_count_reads_as_zero(text: str, expected: int) -> None:
    assert attempt_of({"bria_attempt": text}) == expected


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ({"bria_attempt": "abc"}, "not an attempt count"),
        ({"bria_attempt": "9" * 20}, "not an attempt count"),
        ({"bria_due_at": "tomorrow"}, "not an RFC 3339 time"),
        ({"bria_due_at": "2026-01-01T00:00:00"}, "no timezone"),
        ({"bria_due_at": "9999-12-31T23:59:59+00:00"}, "further than any retry waits"),
        ({"bria_due_at": "2026\udcff"}, "not an RFC 3339 time"),
    ],
)
def test_fleet_headers_the_fleet_cannot_have_written_are_a_problem(
    headers: dict[str, str], problem: str
) -> None:
    found = header_problem(headers, 600, NOW)
    assert found is not None
    assert problem in found
    assert found.isprintable()


def test_fleet_headers_within_the_horizon_are_fine() -> None:
    due = (NOW + timedelta(seconds=599)).isoformat()
    assert header_problem({"bria_attempt": "2", "bria_due_at": due}, 600, NOW) is None
    assert header_problem({}, 600, NOW) is None


def test_a_due_time_that_cannot_be_honoured_is_not_waited_for() -> None:
    assert due_time({"bria_due_at": "9999-12-31T23:59:59+00:00"}, 600) is None
    assert due_time({"bria_due_at": "garbage"}, 600) is None
    soon = datetime.now(UTC) + timedelta(seconds=5)
    assert due_time({"bria_due_at": soon.isoformat()}, 600) == soon


def test_a_record_over_the_size_limit_is_refused_unread() -> None:
    parsed.clear()
    value = json.dumps({**REQUEST, "prompt": "p" * 70_000}).encode()
    with pytest.raises(RefusedRequest) as refused:
        _admit(value)
    assert refused.value.code == "request_too_large"
    assert refused.value.job_id is None
    assert parsed == []


def test_a_large_header_counts_towards_the_size_limit() -> None:
    with pytest.raises(RefusedRequest) as refused:
        _admit(json.dumps(REQUEST).encode(), padding="h" * 70_000)
    assert refused.value.code == "request_too_large"


def test_a_request_whose_json_echo_is_over_the_limit_is_refused_with_its_job_id() -> None:
    # 30,000 two-byte characters: 60 KB on the wire, 180 KB once escaped in an event.
    value = json.dumps({**REQUEST, "prompt": "\u00e9" * 30_000}, ensure_ascii=False).encode()
    with pytest.raises(RefusedRequest) as refused:
        _admit(value)
    assert refused.value.code == "request_too_large"
    assert refused.value.job_id == "j-1"


def test_bad_fleet_headers_refuse_a_valid_request_and_name_its_job() -> None:
    with pytest.raises(RefusedRequest) as refused:
        _admit(json.dumps(REQUEST).encode(), bria_due_at="9999-12-31T23:59:59+00:00")
    assert (refused.value.code, refused.value.job_id) == ("invalid_headers", "j-1")


def test_an_invalid_request_is_refused_by_its_contract() -> None:
    with pytest.raises(InvalidRequest) as invalid:
        _admit(None)
    assert not isinstance(invalid.value, RefusedRequest)
    assert "null" in invalid.value.reason


def test_a_valid_request_is_admitted() -> None:
    assert getattr(_admit(json.dumps(REQUEST).encode()), "job_id", None) == "j-1"


def test_the_retry_policy_caps_a_retry_after_so_its_due_time_is_within_the_horizon() -> None:
    settings = WorkerSettings(retry_delays=[1.0, 2.0], retry_after_cap_seconds=30.0)
    policy = RetryPolicy(settings.retry_delays, settings.retry_after_cap_seconds)
    error = ErrorInfo(code="server_error", message="503", retriable=True)
    decision = policy.decide(0, error, NOW, not_before=10_000.0)
    assert isinstance(decision, RetryLater)
    due = datetime.fromisoformat(decision.headers["bria_due_at"])
    assert due == NOW + timedelta(seconds=30)
    assert header_problem(decision.headers, settings.due_horizon_seconds, NOW) is None


def test_the_stuck_limit_is_derived_from_the_retry_policy_and_api_timeouts() -> None:
    settings = WorkerSettings(retry_delays=[5.0, 30.0, 120.0], retry_after_cap_seconds=600.0)
    assert settings.due_horizon_seconds == 660.0
    assert settings.stuck_after(30.0, 30.0) == 660.0 + 30 * 60.0
    assert WorkerSettings(stuck_after_seconds=90.0).stuck_after(30.0, 30.0) == 90.0


def test_a_request_limit_that_would_not_fit_a_record_is_refused() -> None:
    with pytest.raises(ValueError, match="at most half of WORKER_MAX_RECORD_BYTES"):
        WorkerSettings(max_request_bytes=900_000, max_record_bytes=1_048_576)
    assert WorkerSettings(max_request_bytes=1_000_000, max_record_bytes=2_000_000)
