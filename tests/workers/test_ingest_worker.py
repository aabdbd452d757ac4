"""The ingest worker end to end: a real broker, the simulator, a real worker process."""

import base64
import io
import signal
import threading
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from bria_fleet.kafka_client import aiokafka_options
from bria_fleet.settings import KafkaSettings
from bria_fleet.sim import SimServer, render
from bria_fleet_contracts import topics_for
from tests.fixtures.fleet import (
    FleetEvents,
    FleetEventsFor,
    StartWorker,
    Submit,
    TopicTail,
    WorkerProcess,
)
from tests.workers.helpers import calls, example, set_faults

pytestmark = pytest.mark.integration

JobIds = Callable[[str], str]
V1 = "/v1/tailored-gen"


@pytest.fixture
async def ingest_events(fleet_events: FleetEventsFor) -> FleetEvents:
    """Events, retries and dead letters of the ingest domain from now on."""
    return await fleet_events("ingest")


def ingest_worker(start_worker: StartWorker, sim: SimServer, **env: str) -> WorkerProcess:
    settings = {"WORKER_RETRY_DELAYS": "[0.2, 0.2, 0.2, 0.2]", **env}
    return start_worker("ingest", api_base_url=sim.base_url, api_token=sim.token, **settings)


def png_b64(side: int = 256, seed: int = 1) -> str:
    return base64.b64encode(render.png(side, side, seed)).decode()


def b64_images(*names: str) -> list[dict[str, str]]:
    return [{"image_name": name, "base64": png_b64(seed=n)} for n, name in enumerate(names)]


def into_new_dataset(job_id: str, images: list[dict[str, str]], **changes: Any) -> dict[str, Any]:
    """An ingest into a dataset of the seeded project "100", named after the job."""
    request = {
        "job_id": job_id,
        "op": "ingest_images",
        "project_id": "100",
        "dataset": {"name": f"ds-{job_id}"},
        "images": images,
        **changes,
    }
    return request


def sim_get(sim: SimServer, path: str) -> Any:
    response = httpx.get(f"{sim.base_url}{path}", headers={"api_token": sim.token})
    response.raise_for_status()
    return response.json()


def dataset_image_names(sim: SimServer, dataset_id: str) -> Counter[str]:
    return Counter(
        image["image_name"] for image in sim_get(sim, f"{V1}/datasets/{dataset_id}/images")
    )


def upload_counts(sim: SimServer, dataset_id: str) -> dict[str, int]:
    """Uploads per image name into a dataset, from the simulator's effect counters."""
    counters = httpx.get(f"{sim.base_url}/_sim/counters").json()
    return {
        row["image_name"]: row["count"]
        for row in counters["image_uploads"]
        if str(row["dataset_id"]) == dataset_id
    }


def posts(sim: SimServer, route_fragment: str) -> list[dict[str, Any]]:
    return [call for call in calls(sim, route_fragment) if call["method"] == "POST"]


def only_terminal(events: FleetEvents, job_id: str) -> dict[str, Any]:
    (event,) = events.terminal(job_id)
    return event


async def test_the_contract_example_ingests_completes_and_hands_on_the_dataset_id(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    ingest_events: FleetEvents,
    fleet_topics: KafkaSettings,
    job_ids: JobIds,
) -> None:
    follow_ups = TopicTail(AIOKafkaConsumer(**aiokafka_options(fleet_topics)))
    await follow_ups.start(fleet_topics, [topics_for("training").requests])
    try:
        await ingest_worker(start_worker, sim).wait_ready()
        job_id = job_ids("example")
        await submit("ingest", example("ingest", "ingest_images", job_id))

        await ingest_events.wait_terminal([job_id])
        event = only_terminal(ingest_events, job_id)
        assert event["type"] == "ingest.completed", event
        await follow_ups.wait_for(lambda: bool(follow_ups.messages), what="the training follow-up")
    finally:
        await follow_ups.stop()

    data = event["data"]
    names = [f"cat-{n}.png" for n in range(1, 6)]
    assert event["metadata"] == {"campaign": "spring"}
    assert (data["op"], data["project_id"], data["dataset_status"]) == (
        "ingest_images",
        "100",
        "completed",
    )
    assert (data["total"], data["uploaded"], data["skipped"], data["failed_images"]) == (
        5,
        5,
        0,
        [],
    )
    assert [image["image_name"] for image in data["images"]] == names
    assert all(image["outcome"] == "uploaded" and image["caption"] for image in data["images"])
    assert data["image_ids"] == {image["image_name"]: image["image_id"] for image in data["images"]}
    dataset = sim_get(sim, f"{V1}/datasets/{data['dataset_id']}")
    assert (dataset["name"], dataset["status"]) == ("mascot-v1", "completed")
    assert dataset_image_names(sim, data["dataset_id"]) == Counter(names)
    (follow_up,) = follow_ups.messages
    request = follow_up.json()
    assert request["job_id"] == f"{job_id}/train"
    assert request["dataset_id"] == data["dataset_id"]


async def test_a_project_and_dataset_by_name_are_set_up_before_the_upload(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    ingest_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await ingest_worker(start_worker, sim).wait_ready()
    job_id = job_ids("by-name")
    project = {
        "name": f"brand-{job_id}",
        "ip_type": "defined_character",
        "ip_medium": "illustration",
        "ip_name": "Mo",
        "ip_description": "a blue mascot",
    }
    request = {
        "job_id": job_id,
        "op": "ingest_images",
        "project": project,
        "dataset": {"name": "mascot", "caption_prefix": "An illustration of Mo,"},
        "images": b64_images("a.png", "b.png"),
    }
    await submit("ingest", request)

    await ingest_events.wait_terminal([job_id])

    event = only_terminal(ingest_events, job_id)
    assert event["type"] == "ingest.completed", event
    data = event["data"]
    assert data["dataset_status"] == "draft"
    created = sim_get(sim, f"{V1}/projects/{data['project_id']}")
    assert (created["project_name"], created["ip_type"], created["ip_name"]) == (
        project["name"],
        "defined_character",
        "Mo",
    )
    dataset = sim_get(sim, f"{V1}/datasets/{data['dataset_id']}")
    assert (dataset["name"], dataset["caption_prefix"]) == ("mascot", "An illustration of Mo,")
    prefix_set = [c for c in calls(sim, "/datasets/") if c["fields"].get("caption_prefix")]
    first_upload = posts(sim, "/images")[0]
    assert prefix_set
    assert prefix_set[0]["seq"] < first_upload["seq"]
    assert upload_counts(sim, data["dataset_id"]) == {"a.png": 1, "b.png": 1}


async def test_complete_dataset_marks_it_completed_and_again_is_a_success(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    ingest_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await ingest_worker(start_worker, sim).wait_ready()
    first, again = job_ids("first"), job_ids("again")
    await submit("ingest", example("ingest", "complete_dataset", first))
    await ingest_events.wait_terminal([first])
    await submit("ingest", example("ingest", "complete_dataset", again))
    await ingest_events.wait_terminal([again])

    for job_id in (first, again):
        event = only_terminal(ingest_events, job_id)
        assert event["type"] == "ingest.completed", event
        assert event["data"]["op"] == "complete_dataset"
        assert (event["data"]["dataset_id"], event["data"]["project_id"]) == ("201", "100")
        assert event["data"]["dataset_status"] == "completed"
    assert sim_get(sim, f"{V1}/datasets/201")["status"] == "completed"
    updates = [c for c in calls(sim) if (c["method"], c["path"]) == ("PUT", f"{V1}/datasets/201")]
    assert [update["fields"] for update in updates] == [{"status": "completed"}]


async def test_a_worker_killed_mid_job_uploads_nothing_twice_and_ends_once(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    ingest_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    set_faults(sim, latency={"fixed_seconds": 0.4, "pattern": "*/images"})
    worker = ingest_worker(start_worker, sim)
    await worker.wait_ready()
    job_id = job_ids("killed")
    names = [f"img-{n}.png" for n in range(16)]
    await submit("ingest", into_new_dataset(job_id, b64_images(*names), progress_every=4))
    await ingest_events.tail.wait_for(
        lambda: bool(ingest_events.events(job_id)), what="the first progress event"
    )

    worker.signal(signal.SIGKILL)
    worker.wait_exit()
    assert not ingest_events.terminal(job_id), "the job ended before the kill"
    await ingest_worker(start_worker, sim).wait_ready()
    await ingest_events.wait_terminal([job_id], within=60)

    event = only_terminal(ingest_events, job_id)
    data = event["data"]
    assert event["type"] == "ingest.completed", event
    assert data["skipped"] > 0, "the restarted job skipped nothing, so it was not redelivered"
    assert data["uploaded"] + data["skipped"] == len(names)
    assert sorted(data["image_ids"]) == sorted(names)
    assert upload_counts(sim, data["dataset_id"]) == dict.fromkeys(names, 1)
    assert dataset_image_names(sim, data["dataset_id"]) == Counter(names)


async def test_a_second_job_with_the_same_images_skips_them_all(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    ingest_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await ingest_worker(start_worker, sim).wait_ready()
    first, second = job_ids("first"), job_ids("second")
    images = b64_images("x.png", "y.png")
    await submit("ingest", {**into_new_dataset(first, images), "dataset": {"name": "shared"}})
    await ingest_events.wait_terminal([first])
    await submit("ingest", {**into_new_dataset(second, images), "dataset": {"name": "shared"}})
    await ingest_events.wait_terminal([second])

    before, after = only_terminal(ingest_events, first), only_terminal(ingest_events, second)
    assert after["data"]["dataset_id"] == before["data"]["dataset_id"]
    assert (after["data"]["uploaded"], after["data"]["skipped"]) == (0, 2)
    assert [image["outcome"] for image in after["data"]["images"]] == ["skipped", "skipped"]
    assert after["data"]["image_ids"] == before["data"]["image_ids"]
    assert upload_counts(sim, before["data"]["dataset_id"]) == {"x.png": 1, "y.png": 1}
    assert len([call for call in posts(sim, "") if call["route"] == f"{V1}/datasets"]) == 1


async def test_a_retriable_error_retries_the_job_which_skips_what_it_uploaded(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    ingest_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    # Every fourth call to a dataset's images answers 429; one try per call in process.
    set_faults(sim, rate_limits=[{"pattern": "*/images", "allowed": 3, "burst": 1}])
    await ingest_worker(start_worker, sim, BRIA_API_RETRY_ATTEMPTS="1").wait_ready()
    job_id = job_ids("flaky")
    names = [f"f-{n}.png" for n in range(6)]
    await submit("ingest", into_new_dataset(job_id, b64_images(*names)))

    await ingest_events.wait_terminal([job_id], within=30)

    event = only_terminal(ingest_events, job_id)
    assert event["type"] == "ingest.completed", event
    retried = ingest_events.tail.on(ingest_events.topics.retry)
    assert retried
    assert all(r.headers["bria_error_code"] == "rate_limited" for r in retried)
    assert event["data"]["skipped"] > 0
    assert upload_counts(sim, event["data"]["dataset_id"]) == dict.fromkeys(names, 1)


async def test_a_rejected_image_is_reported_while_the_others_upload(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    ingest_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await ingest_worker(start_worker, sim).wait_ready()
    job_id = job_ids("rejects")
    images = [
        *b64_images("good-1.png"),
        {"image_name": "tiny.png", "base64": png_b64(side=64)},
        {"image_name": "anim.gif", "url": "https://assets.example.com/anim.gif"},
        {"image_name": "good-2.png", "url": "https://assets.example.com/good-2.png"},
    ]
    await submit("ingest", into_new_dataset(job_id, images, complete_dataset=True))

    await ingest_events.wait_terminal([job_id])

    event = only_terminal(ingest_events, job_id)
    data = event["data"]
    assert event["type"] == "ingest.completed", event
    assert (data["total"], data["uploaded"], data["dataset_status"]) == (4, 2, "completed")
    failures = {failure["image_name"]: failure for failure in data["failed_images"]}
    assert failures["tiny.png"]["code"] == "precondition_failed"
    assert "64x64" in failures["tiny.png"]["message"]
    assert failures["anim.gif"]["code"] == "unsupported_media_type"
    assert [image["outcome"] for image in data["images"]] == [
        "uploaded",
        "rejected",
        "rejected",
        "uploaded",
    ]
    assert dataset_image_names(sim, data["dataset_id"]) == Counter(["good-1.png", "good-2.png"])


async def test_progress_events_arrive_before_the_end_with_distinct_ids(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    ingest_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await ingest_worker(start_worker, sim).wait_ready()
    job_id = job_ids("progress")
    names = [f"p-{n}.png" for n in range(7)]
    await submit("ingest", into_new_dataset(job_id, b64_images(*names), progress_every=2))

    await ingest_events.wait_terminal([job_id])

    events = ingest_events.events(job_id)
    assert [event["type"] for event in events] == ["ingest.progress"] * 3 + ["ingest.completed"]
    progress = [event["data"] for event in events[:3]]
    assert [p["processed"] for p in progress] == [2, 4, 6]
    assert all(p["total"] == 7 and p["uploaded"] == p["processed"] for p in progress)
    assert all(p["dataset_id"] == events[-1]["data"]["dataset_id"] for p in progress)
    assert len({event["event_id"] for event in events}) == 4


async def test_an_unknown_dataset_fails_the_job_once_with_404(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    ingest_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await ingest_worker(start_worker, sim).wait_ready()
    job_id = job_ids("unknown")
    request = {
        "job_id": job_id,
        "op": "ingest_images",
        "dataset_id": "999999",
        "images": b64_images("a.png"),
    }
    await submit("ingest", request)

    await ingest_events.wait_terminal([job_id])

    (event,) = ingest_events.events(job_id)
    assert event["type"] == "ingest.failed"
    assert (event["error"]["http_status"], event["error"]["retriable"]) == (404, False)
    assert event["data"] == {
        "op": "ingest_images",
        "project_id": None,
        "dataset_id": "999999",
        "uploaded": 0,
    }
    assert not posts(sim, "/images")
    assert not ingest_events.tail.on(ingest_events.topics.retry)


async def test_bad_input_is_dead_lettered_and_the_next_job_completes(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    ingest_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await ingest_worker(start_worker, sim).wait_ready()
    both, twice, valid = job_ids("both"), job_ids("twice"), job_ids("ok")
    await submit("ingest", b"{not json", key="malformed")
    await submit("ingest", into_new_dataset(both, b64_images("a.png"), dataset_id="201"))
    await submit("ingest", into_new_dataset(twice, b64_images("a.png") * 2))
    await submit("ingest", into_new_dataset(valid, b64_images("a.png")))

    await ingest_events.wait_terminal([both, twice, valid])
    await ingest_events.tail.wait_for(
        lambda: len(ingest_events.dead_letters()) >= 3, what="three dead letters"
    )

    letters = {letter.key: letter for letter in ingest_events.dead_letters()}
    assert "not valid JSON" in letters["malformed"].headers["bria_error"]
    assert "dataset_id" in letters[both].headers["bria_error"]
    assert "image_name must be unique" in letters[twice].headers["bria_error"]
    for letter in letters.values():
        assert letter.headers["bria_error_code"] == "invalid_request"
        assert letter.headers["bria_source_topic"] == "bria.ingest.requests"
    for job_id in (both, twice):
        assert only_terminal(ingest_events, job_id)["type"] == "ingest.failed"
    assert only_terminal(ingest_events, valid)["type"] == "ingest.completed"
    assert len(posts(sim, "/images")) == 1


def make_zip(*names: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for n, name in enumerate(names):
            archive.writestr(f"pics/{name}", render.png(256, 256, n))
    return out.getvalue()


class ZipServer:
    """Serves zip files over HTTP at ``url(name)``."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        files = self.files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = files.get(self.path.lstrip("/"))
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/zip")
                self.end_headers()
                self.wfile.write(body or b"")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/{name}"


@pytest.fixture
def zips() -> Iterator[ZipServer]:
    server = ZipServer()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def bulk(job_id: str, url: str, dataset_name: str) -> dict[str, Any]:
    request = into_new_dataset(job_id, [], bulk_zip_url=url, dataset={"name": dataset_name})
    del request["images"]
    return request


async def test_a_bulk_zip_uploads_only_the_entries_not_already_there(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    ingest_events: FleetEvents,
    job_ids: JobIds,
    zips: ZipServer,
) -> None:
    await ingest_worker(start_worker, sim).wait_ready()
    zips.files["first.zip"] = make_zip("a.png", "b.png")
    zips.files["more.zip"] = make_zip("a.png", "b.png", "c.png")
    first, more = job_ids("first"), job_ids("more")
    await submit("ingest", bulk(first, zips.url("first.zip"), "bulk"))
    await ingest_events.wait_terminal([first])
    await submit("ingest", bulk(more, zips.url("more.zip"), "bulk"))
    await ingest_events.wait_terminal([more])

    before, after = only_terminal(ingest_events, first), only_terminal(ingest_events, more)
    assert before["type"] == after["type"] == "ingest.completed", (before, after)
    assert (before["data"]["uploaded"], before["data"]["skipped"]) == (2, 0)
    assert (after["data"]["uploaded"], after["data"]["skipped"]) == (1, 2)
    assert sorted(after["data"]["image_ids"]) == ["a.png", "b.png", "c.png"]
    dataset_id = after["data"]["dataset_id"]
    assert dataset_id == before["data"]["dataset_id"]
    assert len(posts(sim, "/images/bulk")) == 2
    assert upload_counts(sim, dataset_id) == {"a.png": 1, "b.png": 1, "c.png": 1}


async def test_a_bulk_zip_on_vision_studio_fails_clearly(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    ingest_events: FleetEvents,
    job_ids: JobIds,
    zips: ZipServer,
) -> None:
    await ingest_worker(start_worker, sim, BRIA_BACKEND="vision-studio").wait_ready()
    job_id = job_ids("vs-bulk")
    request = {
        "job_id": job_id,
        "op": "ingest_images",
        "dataset_id": "201",
        "bulk_zip_url": zips.url("any.zip"),
    }
    await submit("ingest", request)

    await ingest_events.wait_terminal([job_id])

    event = only_terminal(ingest_events, job_id)
    assert event["type"] == "ingest.failed"
    assert event["error"]["code"] == "unsupported_operation"
    assert "BRIA_BACKEND" in event["error"]["message"]
    assert event["error"]["retriable"] is False
    assert not posts(sim, "/images")
