"""The caption worker end to end: a real broker, the simulator, a real worker process."""

import json
import signal
from collections.abc import Callable
from typing import Any, cast

import httpx
import pytest

from bria_fleet.api import BriaApi, Dataset, OperationKind, OperationState, OperationStatus
from bria_fleet.runtime.outcomes import JobError, PollInput
from bria_fleet.runtime.records import utcnow
from bria_fleet.sim import SimServer
from bria_fleet.workers.caption import WATCH_KIND, CaptionLogic
from tests.fakes import MemoryFacts
from tests.fixtures.fleet import FleetEvents, FleetEventsFor, StartWorker, Submit, WorkerProcess
from tests.workers.helpers import calls, example, set_timing

integration = pytest.mark.integration

FAST_POLLS = '{"captions": {"first_delay": 0.1, "growth": 1.0, "cap": 0.2, "deadline": 60}}'
TG = "/v1/tailored-gen"
JobIds = Callable[[str], str]


def caption_worker(start_worker: StartWorker, sim: SimServer, **env: str) -> WorkerProcess:
    settings = {"WORKER_RETRY_DELAYS": "[0.5, 0.5]", "WORKER_POLL_POLICIES": FAST_POLLS, **env}
    return start_worker("caption", api_base_url=sim.base_url, api_token=sim.token, **settings)


@pytest.fixture
async def caption_events(fleet_events: FleetEventsFor) -> FleetEvents:
    """Events and dead letters of the caption domain from now on."""
    return await fleet_events("caption")


def engine(sim: SimServer, method: str, path: str, **body: Any) -> Any:
    """Call the simulator's engine API directly (to read or prepare state)."""
    response = httpx.request(
        method, f"{sim.base_url}{TG}{path}", headers={"api_token": sim.token}, json=body or None
    )
    response.raise_for_status()
    return response.json()


def routed(sim: SimServer, method: str, route: str) -> list[dict[str, Any]]:
    """The simulator's calls of one method to one engine route template."""
    return [c for c in calls(sim) if c["method"] == method and c["route"] == f"{TG}{route}"]


async def run_one(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    events: FleetEvents,
    request: dict[str, Any],
    **env: str,
) -> dict[str, Any]:
    """Start a worker, submit ``request`` and return its one terminal event."""
    await caption_worker(start_worker, sim, **env).wait_ready()
    await submit("caption", request)
    await events.wait_terminal([request["job_id"]])
    (event,) = events.terminal(request["job_id"])
    return event


def finish_captions(sim: SimServer, dataset_id: str) -> None:
    """End the dataset's running caption regeneration now."""
    httpx.post(f"{sim.base_url}/_sim/datasets/{dataset_id}/captions/finish").raise_for_status()


def completed_data(event: dict[str, Any]) -> dict[str, Any]:
    assert event["type"] == "caption.completed", event.get("error")
    data: dict[str, Any] = event["data"]
    return data


@integration
async def test_generate_prefix_sets_the_prefix_on_the_draft_dataset(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    caption_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    request = example("caption", "generate_prefix", job_ids("prefix"))

    data = completed_data(await run_one(sim, start_worker, submit, caption_events, request))

    assert data["op"] == "generate_prefix"
    assert data["dataset_id"] == "201"
    assert data["caption_prefix"]
    assert engine(sim, "GET", "/datasets/201")["caption_prefix"] == data["caption_prefix"]
    assert len(routed(sim, "POST", "/generate_prefix")) == 1
    (update,) = routed(sim, "PUT", "/datasets/{dataset_id}")
    assert update["fields"]["caption_prefix"] == data["caption_prefix"]


@integration
async def test_generate_prefix_for_a_completed_dataset_fails_before_calling_the_api(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    caption_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    before = engine(sim, "GET", "/datasets/200")["caption_prefix"]
    request = example("caption", "generate_prefix", job_ids("frozen"), dataset_id="200")

    event = await run_one(sim, start_worker, submit, caption_events, request)

    assert event["type"] == "caption.failed"
    assert event["error"]["code"] == "dataset_completed"
    assert "dataset 200 is completed" in event["error"]["message"]
    assert event["data"] == {"op": "generate_prefix", "dataset_id": "200", "image_id": None}
    assert routed(sim, "POST", "/generate_prefix") == []
    assert engine(sim, "GET", "/datasets/200")["caption_prefix"] == before


@integration
async def test_generate_visual_schema_sets_the_schema_on_the_draft_dataset(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    caption_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    request = example("caption", "generate_visual_schema", job_ids("schema"))

    data = completed_data(await run_one(sim, start_worker, submit, caption_events, request))

    assert data["op"] == "generate_visual_schema"
    assert data["dataset_id"] == "201"
    assert '"style_medium"' in data["visual_schema"]
    assert engine(sim, "GET", "/datasets/201")["visual_schema"] == data["visual_schema"]
    assert len(routed(sim, "POST", "/generate_visual_schema")) == 1


@integration
async def test_refine_writes_the_refined_schema_to_the_dataset(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    caption_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    request = example("caption", "refine_structured_prompt", job_ids("refine-schema"))

    data = completed_data(await run_one(sim, start_worker, submit, caption_events, request))

    assert data["applied_to"] == "visual_schema"
    assert "The character's name is Lucy." in data["structured_prompt"]
    assert engine(sim, "GET", "/datasets/201")["visual_schema"] == data["structured_prompt"]
    assert len(routed(sim, "POST", "/refine_structured_prompt")) == 1


@integration
async def test_refine_writes_the_refined_prompt_to_an_image_caption(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    caption_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    request = example(
        "caption",
        "refine_structured_prompt",
        job_ids("refine-caption"),
        apply_to="image_caption",
        image_id="2012",
    )

    data = completed_data(await run_one(sim, start_worker, submit, caption_events, request))

    assert (data["applied_to"], data["image_id"]) == ("image_caption", "2012")
    image = engine(sim, "GET", "/datasets/201/images/2012")
    assert (image["caption"], image["caption_source"]) == (data["structured_prompt"], "manual")
    assert routed(sim, "PUT", "/datasets/{dataset_id}") == []


@integration
async def test_update_caption_sets_the_text(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    caption_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    request = example("caption", "update_caption", job_ids("set"))

    data = completed_data(await run_one(sim, start_worker, submit, caption_events, request))

    assert data == {
        "op": "update_caption",
        "dataset_id": "201",
        "image_id": "2011",
        "caption": "sitting on a red chair, smiling",
        "caption_source": "manual",
    }
    assert engine(sim, "GET", "/datasets/201/images/2011")["caption"] == data["caption"]


@integration
async def test_update_caption_regenerates_one_caption(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    caption_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    engine(sim, "PUT", "/datasets/201/images/2013", caption="a hand-written caption")
    request = example("caption", "update_caption", job_ids("regen"), image_id="2013")
    del request["caption"]
    request["regenerate"] = True

    data = completed_data(await run_one(sim, start_worker, submit, caption_events, request))

    assert data["caption_source"] == "automatic"
    image = engine(sim, "GET", "/datasets/201/images/2013")
    assert image["caption"] == data["caption"] != "a hand-written caption"
    (call,) = routed(sim, "PUT", "/datasets/{dataset_id}/images/{image_id}")[-1:]
    assert call["fields"]["regenerate_caption"] is True


@integration
async def test_editing_a_caption_of_a_completed_dataset_fails_once_with_409(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    caption_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    request = example(
        "caption", "update_caption", job_ids("frozen"), dataset_id="200", image_id="2001"
    )

    event = await run_one(sim, start_worker, submit, caption_events, request)

    assert event["type"] == "caption.failed"
    assert event["error"]["http_status"] == 409
    assert event["error"]["retriable"] is False
    assert "completed dataset" in event["error"]["message"]
    assert event["data"] == {"op": "update_caption", "dataset_id": "200", "image_id": "2001"}
    assert len(routed(sim, "PUT", "/datasets/{dataset_id}/images/{image_id}")) == 1
    assert not caption_events.tail.on(caption_events.topics.retry)


@integration
async def test_regenerate_all_captions_is_followed_to_the_new_captions(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    caption_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    engine(sim, "PUT", "/datasets/201", caption_prefix="A watercolour of Lora,")
    before = {str(i["id"]): i["caption"] for i in engine(sim, "GET", "/datasets/201/images")}
    request = example("caption", "regenerate_all_captions", job_ids("all"))

    data = completed_data(await run_one(sim, start_worker, submit, caption_events, request))

    after = {str(i["id"]): i["caption"] for i in engine(sim, "GET", "/datasets/201/images")}
    assert data["dataset_id"] == "201"
    assert data["images_count"] == 3
    assert data["captions"] == after
    assert set(after) == {"2011", "2012", "2013"}
    assert all(after[image_id] != before[image_id] for image_id in after)
    assert len(routed(sim, "PUT", "/datasets/{dataset_id}/images")) == 1


@integration
async def test_regenerate_all_survives_a_worker_kill_after_the_watch_started(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    caption_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    set_timing(sim, caption_seconds=600.0)
    worker = caption_worker(start_worker, sim)
    await worker.wait_ready()
    job_id = job_ids("kill")
    await submit("caption", example("caption", "regenerate_all_captions", job_id))

    def watched() -> bool:
        started = routed(sim, "PUT", "/datasets/{dataset_id}/images")
        polls = routed(sim, "GET", "/datasets/{dataset_id}")
        return bool(started) and any(poll["seq"] > started[0]["seq"] for poll in polls)

    await caption_events.tail.wait_for(watched, within=30, what="the watcher's first poll")
    worker.signal(signal.SIGKILL)
    worker.wait_exit()
    assert not caption_events.terminal(job_id), "too late to test a resume"
    await caption_worker(start_worker, sim).wait_ready()
    finish_captions(sim, "201")
    await caption_events.wait_terminal([job_id])

    (event,) = caption_events.terminal(job_id)
    assert completed_data(event)["captions"].keys() == {"2011", "2012", "2013"}
    assert len(routed(sim, "PUT", "/datasets/{dataset_id}/images")) == 1


@integration
async def test_a_regeneration_already_running_is_joined_not_restarted(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    caption_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    set_timing(sim, caption_seconds=600.0)
    engine(sim, "PUT", "/datasets/201/images")
    await caption_worker(start_worker, sim).wait_ready()
    job_id = job_ids("join")
    await submit("caption", example("caption", "regenerate_all_captions", job_id))

    await caption_events.tail.wait_for(
        lambda: len(routed(sim, "GET", "/datasets/{dataset_id}")) >= 2,
        within=30,
        what="the watcher's first poll",
    )
    finish_captions(sim, "201")
    await caption_events.wait_terminal([job_id])

    (event,) = caption_events.terminal(job_id)
    assert completed_data(event)["images_count"] == 3
    assert len(routed(sim, "PUT", "/datasets/{dataset_id}/images")) == 1


@integration
async def test_caption_media_on_the_engine_backend_fails_once_with_a_clear_message(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    caption_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    request = example("caption", "caption_media", job_ids("engine"))

    event = await run_one(sim, start_worker, submit, caption_events, request)

    assert event["type"] == "caption.failed"
    assert event["error"]["code"] == "unsupported_operation"
    assert event["error"]["retriable"] is False
    assert "engine backend" in event["error"]["message"]
    assert "Vision Studio" in event["error"]["message"]
    assert event["data"]["op"] == "caption_media"
    assert not caption_events.tail.on(caption_events.topics.retry)
    assert not caption_events.dead_letters()
    assert calls(sim, "/caption/") == []


@integration
async def test_caption_media_on_the_vision_studio_backend_completes(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    caption_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    request = example("caption", "caption_media", job_ids("vs"), mode="image_tagging", nbr_tags=3)

    event = await run_one(
        sim, start_worker, submit, caption_events, request, BRIA_BACKEND="vision-studio"
    )

    data = completed_data(event)
    assert (data["media_url"], data["kind"]) == (request["media_url"], "image")
    assert data["caption"]
    assert len(data["tags"]) == 3
    (call,) = calls(sim, "/api/v1/caption/image")
    assert call["fields"]["image_url"] == request["media_url"]


@integration
async def test_bad_input_is_dead_lettered_and_the_next_job_completes(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    caption_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await caption_worker(start_worker, sim).wait_ready()
    invalid_id, valid_id = job_ids("both-ways"), job_ids("ok")
    await submit("caption", b"{not json", key="malformed")
    await submit("caption", example("caption", "update_caption", invalid_id, regenerate=True))
    await submit("caption", example("caption", "update_caption", valid_id))

    await caption_events.wait_terminal([invalid_id, valid_id])
    await caption_events.tail.wait_for(
        lambda: len(caption_events.dead_letters()) >= 2, what="two dead letters"
    )

    letters = {letter.key: letter for letter in caption_events.dead_letters()}
    assert "not valid JSON" in letters["malformed"].headers["bria_error"]
    assert "exactly one of caption or regenerate" in letters[invalid_id].headers["bria_error"]
    for letter in letters.values():
        assert letter.headers["bria_error_code"] == "invalid_request"
        assert letter.headers["bria_source_topic"] == "bria.caption.requests"
    (failed,) = caption_events.terminal(invalid_id)
    assert failed["error"]["code"] == "invalid_request"
    assert completed_data(caption_events.terminal(valid_id)[0])["image_id"] == "2011"


class _FailedRegeneration:
    """Just enough of the API for the watch: the regeneration reads as failed."""

    async def get_caption_update_status(self, dataset_id: str) -> OperationStatus[Dataset]:
        return OperationStatus[Dataset](
            kind=OperationKind.CAPTION_UPDATE,
            id=dataset_id,
            state=OperationState.FAILED,
            raw_status="failed",
        )


async def test_a_failed_captions_update_status_fails_the_job() -> None:
    logic = CaptionLogic()
    request = logic.parse(
        json.dumps(example("caption", "regenerate_all_captions", "unit-failed")).encode()
    )
    poll = PollInput(
        api=cast(BriaApi, _FailedRegeneration()),
        request=request,
        target_id="201",
        started_at=utcnow(),
        status=None,
        facts=MemoryFacts(),
    )

    with pytest.raises(JobError) as failure:
        await logic.watch_kinds[WATCH_KIND].poll(poll)

    assert failure.value.code == "caption_update_failed"
    assert "dataset 201" in failure.value.message
    assert failure.value.retriable is False
