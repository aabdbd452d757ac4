"""Requests that try to hurt the parser or the logs are refused with a printable reason."""

import json

import pytest

from bria_fleet_contracts import InvalidRequest, parse_request
from bria_fleet_contracts.parsing import (
    MAX_JSON_DEPTH,
    json_shape_problem,
    printable,
    quoted,
    usable_job_id,
)

REQUEST = {"job_id": "j-1", "op": "text_to_image", "model_id": "300", "prompt": "a cat"}


def _refusal(raw: bytes | None) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as invalid:
        parse_request("generation", raw)
    assert invalid.value.reason.isprintable()
    return invalid.value


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (None, "null value"),
        (b"", "empty"),
        (b" \n", "empty"),
        (b"[" * 10_000 + b"]" * 10_000, f"nested more than {MAX_JSON_DEPTH} levels"),
        (b"[" + b"1," * 20_000 + b"1]", "longer than 10000 values"),
        (json.dumps({**REQUEST, "seed": 1}).encode().replace(b"1}", b"NaN}"), "NaN"),
        (b'{"seed": ' + b"7" * 5000 + b"}", "not valid JSON"),
    ],
)
def test_hostile_shapes_are_refused_before_or_while_parsing(raw: bytes | None, reason: str) -> None:
    assert reason in _refusal(raw).reason


@pytest.mark.parametrize(
    "job_id",
    ["", "a b", "evil\nFORGED", "a\x1b[31m", "a\x00b", "bad\ud800", "j" * 513, "a\u2028b", 7],
)
def test_a_job_id_that_no_event_could_carry_is_not_usable(job_id: object) -> None:
    assert usable_job_id(job_id) is None
    value = json.dumps({**REQUEST, "job_id": job_id}).encode()
    refusal = _refusal(value)
    assert refusal.job_id is None
    assert "\n" not in refusal.reason


@pytest.mark.parametrize("job_id", ["j-1", "brand/42:hero", "\u00e9t\u00e9", "j" * 512])
def test_usable_job_ids(job_id: str) -> None:
    assert usable_job_id(job_id) == job_id
    assert parse_request("generation", {**REQUEST, "job_id": job_id}).job_id == job_id


def test_a_job_id_too_long_for_its_follow_up_ids_is_refused_naming_the_job() -> None:
    job_id = "j" * 505
    then = [{"step": "next-step", "domain": "generation", "request": {"op": "text_to_image"}}]
    refusal = _refusal(json.dumps({**REQUEST, "job_id": job_id, "then": then}).encode())
    assert refusal.job_id == job_id
    assert "follow-up 'next-step'" in refusal.reason
    assert "(505 characters)" in refusal.reason


def test_many_follow_ups_are_refused_quickly_with_a_short_reason() -> None:
    refusal = _refusal(json.dumps({**REQUEST, "then": [{}] * 3000}).encode())
    assert refusal.job_id == "j-1"
    assert len(refusal.reason) < 300


def test_the_depth_scan_skips_brackets_in_strings() -> None:
    assert json_shape_problem('["' + "[" * 100 + '"]') is None
    assert json_shape_problem('["\\"' + "[" * 100 + '"]') is None
    assert json_shape_problem("[" * 65 + "]" * 65) is not None


def test_text_for_a_log_line_is_escaped_and_cut() -> None:
    assert printable("a\nb\x1b\ud800") == "a\\nb\\x1b\\ud800"
    assert printable("x" * 5000, limit=10) == "xxxxxxxxxx... (cut)"
    assert quoted("y" * 100, limit=5) == "'yyyyy'... (100 characters)"
