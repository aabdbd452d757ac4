"""The POST retry policy (README "Retries"): a generation is never paid for twice by default.

Each generation route, on both backends, is sent once after an answer that leaves its effect
unknown and ends in ``OutcomeUnknown``; a refusal (429, 503, connection refused) is repeated.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import pytest

from bria_fleet.api import (
    BriaApi,
    OutcomeUnknown,
    ReimagineRequest,
    RestylePortraitRequest,
    ServerError,
    TailoredImageRequest,
    Throttle,
    V2ImageRequest,
    V2StructuredPromptRequest,
    announcing_paid_calls,
)
from bria_fleet.api._throttle import MAX_RELEASE_SPREAD_SECONDS
from bria_fleet.api._transport import USER_AGENT
from bria_fleet.metrics import API_OUTCOME_UNKNOWN
from tests.api.conftest import FakeClock, Recorder, json_response, make_api

V1_RESULT = {"result": [{"urls": ["http://x/a.png"], "seed": 1}]}
V2_ACCEPTED = {"request_id": "r1", "status_url": "http://x/v2/status/r1"}
VS_RESULT = {"status": "success", "result": {"request_id": "r1", "status_url": "http://x/s/r1"}}

Generate = Callable[[BriaApi], Awaitable[object]]

ENGINE_GENERATIONS: dict[str, tuple[Generate, dict[str, object]]] = {
    "text_to_image": (
        lambda api: api.text_to_image("300", TailoredImageRequest(prompt="a cat")),
        V1_RESULT,
    ),
    "text_to_vector": (
        lambda api: api.text_to_vector("300", TailoredImageRequest(prompt="a cat")),
        V1_RESULT,
    ),
    "reimagine": (
        lambda api: api.reimagine("300", ReimagineRequest(prompt="a cat")),
        V1_RESULT,
    ),
    "restyle_portrait": (
        lambda api: api.restyle_portrait(
            RestylePortraitRequest.model_validate(
                {"tailored_model_id": "300", "id_image": {"url": "http://x/face.png"}}
            )
        ),
        V1_RESULT,
    ),
    "generate_image_v2": (
        lambda api: api.generate_image_v2(V2ImageRequest(tailored_model_id="400", prompt="a fox")),
        V2_ACCEPTED,
    ),
    "generate_structured_prompt_v2": (
        lambda api: api.generate_structured_prompt_v2(
            V2StructuredPromptRequest(tailored_model_id="400", prompt="a fox")
        ),
        V2_ACCEPTED,
    ),
}
STUDIO_GENERATIONS: dict[str, tuple[Generate, dict[str, object]]] = {
    "text_to_image": (
        lambda api: api.text_to_image("300", TailoredImageRequest(prompt="a cat")),
        VS_RESULT,
    ),
    "text_to_vector": (
        lambda api: api.text_to_vector("300", TailoredImageRequest(prompt="a cat")),
        VS_RESULT,
    ),
    "reimagine": (
        lambda api: api.reimagine("300", ReimagineRequest(prompt="a cat")),
        VS_RESULT,
    ),
}
GENERATIONS = [
    pytest.param("engine", generate, answer, id=f"engine-{name}")
    for name, (generate, answer) in ENGINE_GENERATIONS.items()
] + [
    pytest.param("vision-studio", generate, answer, id=f"studio-{name}")
    for name, (generate, answer) in STUDIO_GENERATIONS.items()
]
EFFECT_UNKNOWN = [
    pytest.param(json_response(500, {"message": "boom"}), id="500"),
    pytest.param(json_response(502), id="502"),
    pytest.param(json_response(504), id="504"),
    pytest.param(httpx.ReadTimeout("sent, no answer"), id="read-timeout"),
    pytest.param(httpx.RemoteProtocolError("connection dropped"), id="dropped"),
]
REFUSED = [
    pytest.param(json_response(429), id="429"),
    pytest.param(json_response(503), id="503"),
    pytest.param(httpx.ConnectError("refused"), id="connection-refused"),
]


@pytest.mark.parametrize(("backend", "generate", "answer"), GENERATIONS)
@pytest.mark.parametrize("failure", EFFECT_UNKNOWN)
async def test_a_generation_whose_answer_was_lost_is_sent_once_and_ends_outcome_unknown(
    backend: str,
    generate: Generate,
    answer: dict[str, object],
    failure: httpx.Response | Exception,
    clock: FakeClock,
) -> None:
    recorder = Recorder(failure, json_response(200, answer))
    api = make_api(recorder, backend=backend, clock=clock, retry_attempts=4)

    with pytest.raises(OutcomeUnknown) as caught:
        await generate(api)

    assert len(recorder.requests) == 1
    assert caught.value.code == "api_outcome_unknown"
    assert caught.value.retriable  # for the upstream: a new job may succeed
    assert "not paid twice" in caught.value.message


@pytest.mark.parametrize(("backend", "generate", "answer"), GENERATIONS)
@pytest.mark.parametrize("failure", REFUSED)
async def test_a_generation_the_api_refused_is_repeated_in_process(
    backend: str,
    generate: Generate,
    answer: dict[str, object],
    failure: httpx.Response | Exception,
    clock: FakeClock,
) -> None:
    recorder = Recorder(failure, json_response(200, answer))
    api = make_api(recorder, backend=backend, clock=clock, retry_attempts=4)

    await generate(api)

    assert len(recorder.requests) == 2


@pytest.mark.parametrize("failure", EFFECT_UNKNOWN)
async def test_opting_in_repeats_a_generation_whose_answer_was_lost(
    failure: httpx.Response | Exception, clock: FakeClock
) -> None:
    recorder = Recorder(failure, json_response(200, V1_RESULT))
    api = make_api(recorder, clock=clock, retry_attempts=4, repeat_uncertain_generations=True)

    await api.text_to_image("300", TailoredImageRequest(prompt="a cat"))

    assert len(recorder.requests) == 2


async def test_a_generation_refused_past_the_budget_goes_back_to_the_job_as_retriable(
    clock: FakeClock,
) -> None:
    recorder = Recorder(json_response(503))
    api = make_api(recorder, clock=clock, retry_attempts=3)

    with pytest.raises(ServerError) as caught:
        await api.text_to_image("300", TailoredImageRequest(prompt="a cat"))

    # Refused every time: the API surely did nothing, so the retry topic may try again.
    assert not isinstance(caught.value, OutcomeUnknown)
    assert caught.value.retriable
    assert len(recorder.requests) == 3


async def test_outcome_unknown_is_counted_by_route(clock: FakeClock) -> None:
    route = "/v1/text-to-image/tailored/{model_id}"
    before = API_OUTCOME_UNKNOWN.labels(route=route)._value.get()
    api = make_api(Recorder(json_response(500)), clock=clock)

    with pytest.raises(OutcomeUnknown):
        await api.text_to_image("300", TailoredImageRequest(prompt="a cat"))

    assert API_OUTCOME_UNKNOWN.labels(route=route)._value.get() == before + 1


async def test_a_503_retry_after_holds_back_every_request_of_the_process(
    clock: FakeClock,
) -> None:
    throttle = Throttle(clock=clock, sleep=clock.sleep)
    recorder = Recorder(
        json_response(503, None, **{"Retry-After": "7"}),
        json_response(200, {"id": 7, "name": "m", "status": "Completed"}),
    )
    api = make_api(recorder, clock=clock, throttle=throttle, retry_attempts=1)

    with pytest.raises(ServerError) as caught:
        await api.text_to_image("300", TailoredImageRequest(prompt="a cat"))
    assert caught.value.retry_after == 7.0

    await api.get_model("7")  # another call, after the one that was told to wait

    (held,) = clock.sleeps  # the hold, then released within a spread as long as the hold
    assert 7.0 <= held <= 7.0 + min(7.0, MAX_RELEASE_SPREAD_SECONDS)
    assert len(recorder.requests) == 2


async def test_requests_name_the_fleet_in_their_user_agent(clock: FakeClock) -> None:
    recorder = Recorder(json_response(200, {"id": 7, "name": "m", "status": "Completed"}))
    api = make_api(recorder, clock=clock)

    await api.get_model("7")

    assert recorder.last.headers["user-agent"] == USER_AGENT
    assert USER_AGENT.startswith("bria-fleet/")


class _Announcements:
    """An announcer that says whether an earlier attempt may have sent the call."""

    def __init__(self, *, earlier: bool) -> None:
        self.earlier = earlier
        self.count = 0

    async def __call__(self) -> bool:
        self.count += 1
        return self.earlier


@pytest.mark.parametrize(("backend", "generate", "answer"), GENERATIONS)
async def test_every_paid_generation_is_announced_before_it_is_sent(
    backend: str, generate: Generate, answer: dict[str, object], clock: FakeClock
) -> None:
    announcements = _Announcements(earlier=False)
    recorder = Recorder(json_response(200, answer))
    api = make_api(recorder, backend=backend, clock=clock)

    with announcing_paid_calls(announcements):
        await generate(api)

    assert announcements.count == 1
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(("backend", "generate", "answer"), GENERATIONS)
async def test_a_generation_an_earlier_attempt_may_have_sent_is_not_sent_again(
    backend: str, generate: Generate, answer: dict[str, object], clock: FakeClock
) -> None:
    recorder = Recorder(json_response(200, answer))
    api = make_api(recorder, backend=backend, clock=clock)

    with announcing_paid_calls(_Announcements(earlier=True)), pytest.raises(OutcomeUnknown) as e:
        await generate(api)

    assert recorder.requests == []
    assert e.value.code == "api_outcome_unknown"
    assert "earlier attempt" in e.value.message


async def test_opting_in_sends_a_generation_an_earlier_attempt_may_have_sent(
    clock: FakeClock,
) -> None:
    recorder = Recorder(json_response(200, V1_RESULT))
    api = make_api(recorder, clock=clock, repeat_uncertain_generations=True)

    with announcing_paid_calls(_Announcements(earlier=True)):
        await api.text_to_image("300", TailoredImageRequest(prompt="a cat"))

    assert len(recorder.requests) == 1


async def test_calls_that_are_not_paid_generations_are_not_announced(clock: FakeClock) -> None:
    announcements = _Announcements(earlier=True)
    recorder = Recorder(json_response(200, {"id": 7, "name": "m", "status": "Completed"}))
    api = make_api(recorder, clock=clock)

    with announcing_paid_calls(announcements):
        await api.get_model("7")

    assert announcements.count == 0
    assert len(recorder.requests) == 1
