"""Retriable failures are retried with jittered backoff, Retry-After, attempts and a budget."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from bria_fleet.api import (
    ApiConnectionError,
    ApiTimeout,
    AsyncJob,
    BadRequest,
    Conflict,
    NotFound,
    RateLimited,
    RetryPolicy,
    ServerError,
    TailoredImageRequest,
    Throttle,
    parse_retry_after,
)
from bria_fleet.api._throttle import MAX_RELEASE_SPREAD_SECONDS
from tests.api.conftest import FakeClock, Recorder, json_response, make_api

MODEL = {"id": 7, "name": "m", "status": "Completed"}


def test_backoff_is_full_jitter_under_an_exponential_ceiling_capped_at_max() -> None:
    policy = RetryPolicy(attempts=10, initial_seconds=0.5, max_seconds=4.0, budget_seconds=60)
    assert [policy.backoff(n, lambda: 1.0) for n in range(1, 6)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert policy.backoff(3, lambda: 0.0) == 0.0
    assert policy.backoff(3, lambda: 0.25) == 0.5


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert (
        parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30
    )
    assert (
        parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0
    )
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


@pytest.mark.parametrize(
    "failure",
    [
        json_response(500, {"message": "boom"}),
        json_response(503),
        json_response(429, {"message": "Request limit exceeded"}),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
    ],
    ids=["500", "503", "429", "timeout", "connection"],
)
async def test_retriable_failures_are_retried_until_success(
    failure: httpx.Response | Exception, clock: FakeClock
) -> None:
    recorder = Recorder(failure, failure, json_response(200, MODEL))
    api = make_api(recorder, clock=clock)
    model = await api.get_model("7")
    assert model.id == "7"
    assert len(recorder.requests) == 3
    assert len(clock.sleeps) == 2


async def test_backoff_between_attempts_grows_and_stays_under_its_ceiling(
    clock: FakeClock,
) -> None:
    failure = json_response(503)
    recorder = Recorder(failure, failure, failure, json_response(200, MODEL))
    api = make_api(recorder, clock=clock, retry_initial_seconds=1.0, retry_max_seconds=3.0)
    await api.get_model("7")
    ceilings = [1.0, 2.0, 3.0]
    assert len(clock.sleeps) == 3
    assert all(0 <= s <= c for s, c in zip(clock.sleeps, ceilings, strict=True))


@pytest.mark.parametrize(("status", "cls"), [(400, BadRequest), (404, NotFound), (409, Conflict)])
async def test_permanent_errors_are_not_retried(
    status: int, cls: type[Exception], clock: FakeClock
) -> None:
    recorder = Recorder(json_response(status, {"message": "no"}))
    api = make_api(recorder, clock=clock)
    with pytest.raises(cls):
        await api.get_model("7")
    assert len(recorder.requests) == 1
    assert clock.sleeps == []


async def test_retry_after_seconds_is_honoured_exactly(clock: FakeClock) -> None:
    recorder = Recorder(json_response(429, None, **{"Retry-After": "5"}), json_response(200, MODEL))
    api = make_api(recorder, clock=clock)
    await api.get_model("7")
    assert clock.sleeps == [5.0]


async def test_retry_after_http_date_is_honoured(clock: FakeClock) -> None:
    when = datetime.now(UTC) + timedelta(seconds=20)
    header = format_datetime(when, usegmt=True)
    recorder = Recorder(
        json_response(429, None, **{"Retry-After": header}), json_response(200, MODEL)
    )
    api = make_api(recorder, clock=clock)
    await api.get_model("7")
    assert len(clock.sleeps) == 1
    assert 18.0 <= clock.sleeps[0] <= 20.0


async def test_attempts_are_bounded_and_the_last_error_is_raised(clock: FakeClock) -> None:
    recorder = Recorder(json_response(502, {"message": "bad gateway"}))
    api = make_api(recorder, clock=clock, retry_attempts=3)
    with pytest.raises(ServerError) as caught:
        await api.get_model("7")
    assert len(recorder.requests) == 3
    assert caught.value.retriable is True


async def test_a_wait_that_would_cross_the_budget_is_not_taken(clock: FakeClock) -> None:
    recorder = Recorder(json_response(429, None, **{"Retry-After": "40"}))
    api = make_api(recorder, clock=clock, retry_budget_seconds=30.0)
    with pytest.raises(RateLimited) as caught:
        await api.get_model("7")
    assert len(recorder.requests) == 1
    assert clock.sleeps == []
    assert caught.value.retry_after == 40.0


async def test_budget_stops_retries_before_attempts_run_out(clock: FakeClock) -> None:
    recorder = Recorder(json_response(429, None, **{"Retry-After": "4"}))
    api = make_api(recorder, clock=clock, retry_attempts=100, retry_budget_seconds=10.0)
    with pytest.raises(RateLimited):
        await api.get_model("7")
    assert clock.sleeps == [4.0, 4.0]
    assert len(recorder.requests) == 3


@pytest.mark.parametrize(
    ("failure", "cls"),
    [(httpx.ReadTimeout("slow"), ApiTimeout), (httpx.ConnectError("down"), ApiConnectionError)],
)
async def test_transport_errors_surface_as_ours_once_attempts_run_out(
    failure: Exception, cls: type[Exception], clock: FakeClock
) -> None:
    recorder = Recorder(failure)
    api = make_api(recorder, clock=clock, retry_attempts=2)
    with pytest.raises(cls):
        await api.get_model("7")
    assert len(recorder.requests) == 2


async def test_a_429_holds_every_other_caller_of_the_process(clock: FakeClock) -> None:
    throttle = Throttle(clock=clock, sleep=clock.sleep)
    limited = make_api(
        Recorder(json_response(429, None, **{"Retry-After": "6"})),
        clock=clock,
        throttle=throttle,
        retry_attempts=1,
    )
    with pytest.raises(RateLimited):
        await limited.get_model("7")
    assert throttle.backing_off_for == 6.0

    other_recorder = Recorder(json_response(200, MODEL))
    other = make_api(other_recorder, clock=clock, throttle=throttle)
    await other.get_model("8")
    (held,) = clock.sleeps
    assert 6.0 <= held <= 6.0 + min(6.0, MAX_RELEASE_SPREAD_SECONDS)
    assert len(other_recorder.requests) == 1


async def test_a_429_without_retry_after_backs_off_everyone_by_the_jittered_delay(
    clock: FakeClock,
) -> None:
    throttle = Throttle(clock=clock, sleep=clock.sleep)
    recorder = Recorder(json_response(429), json_response(200, MODEL))
    api = make_api(recorder, clock=clock, throttle=throttle, retry_attempts=2)
    await api.get_model("7")
    assert len(clock.sleeps) == 1
    assert 0 <= clock.sleeps[0] <= 0.5


async def test_the_request_budget_paces_calls_across_the_process() -> None:
    throttle = Throttle(requests_per_second=20)
    recorder = Recorder(json_response(200, MODEL))
    api = make_api(recorder, throttle=throttle)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(api.get_model("7") for _ in range(30)))
    elapsed = loop.time() - started
    assert len(recorder.requests) == 30
    assert elapsed >= 0.4  # 20 admitted at once, the next 10 at 20 per second


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_a_post_that_may_have_taken_effect_is_not_repeated_in_process(
    status: int, clock: FakeClock
) -> None:
    recorder = Recorder(json_response(status), json_response(201, {"id": 5, "name": "p"}))
    api = make_api(recorder, clock=clock, retry_attempts=3)

    with pytest.raises(ServerError) as caught:
        await api.create_project(name="p", ip_type="stylized_scene", ip_medium="illustration")

    # Left to the job's own retry, which finds the project by name before creating it.
    assert caught.value.retriable
    assert len(recorder.requests) == 1


@pytest.mark.parametrize("status", [429, 503])
async def test_a_post_refused_with_429_or_503_is_repeated_in_process(
    status: int, clock: FakeClock
) -> None:
    recorder = Recorder(json_response(status), json_response(201, {"id": 5, "name": "p"}))
    api = make_api(recorder, clock=clock, retry_attempts=3)

    project = await api.create_project(name="p", ip_type="stylized_scene", ip_medium="illustration")

    assert project.id == "5"
    assert len(recorder.requests) == 2


async def test_a_generation_is_repeated_in_process_after_a_5xx(clock: FakeClock) -> None:
    result = {"result": [{"urls": ["http://x/a.png"], "seed": 1}]}
    recorder = Recorder(json_response(503), json_response(200, result))
    api = make_api(recorder, clock=clock, retry_attempts=3)

    outcome = await api.text_to_image("300", TailoredImageRequest(prompt="a cat"))

    assert len(recorder.requests) == 2
    assert not isinstance(outcome, AsyncJob)
