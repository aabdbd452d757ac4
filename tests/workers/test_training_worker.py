"""The training worker end to end: a real broker, the simulator, a real worker process."""

import signal
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bria_fleet.sim import SimServer
from tests.fixtures.fleet import FleetEvents, FleetEventsFor, StartWorker, Submit, WorkerProcess
from tests.workers.helpers import calls, example, http_get, set_faults, set_timing

pytestmark = pytest.mark.integration

FAST_POLLS = (
    '{"training": {"first_delay": 0.1, "growth": 1.0, "cap": 0.2, "deadline": 60},'
    ' "training_stop": {"first_delay": 0.1, "growth": 1.0, "cap": 0.2, "deadline": 60}}'
)
JobIds = Callable[[str], str]


@pytest.fixture
async def training_events(fleet_events: FleetEventsFor) -> FleetEvents:
    """Events and dead letters of the training domain from now on."""
    return await fleet_events("training")


def training_worker(start_worker: StartWorker, sim: SimServer, **env: str) -> WorkerProcess:
    settings = {"WORKER_RETRY_DELAYS": "[0.5, 0.5]", "WORKER_POLL_POLICIES": FAST_POLLS, **env}
    return start_worker("training", api_base_url=sim.base_url, api_token=sim.token, **settings)


def train(job_id: str, model_name: str | None = None, **changes: Any) -> dict[str, Any]:
    """A train_model request for a new light model named after the job, on dataset 200."""
    spec = {"name": model_name or f"model-{job_id}", "training_version": "light"}
    return example("training", "train_model", job_id, model=spec, **changes)


def stop(job_id: str, model_id: str) -> dict[str, Any]:
    return example("training", "stop_training", job_id, model_id=model_id)


def training_starts(sim: SimServer) -> dict[str, int]:
    """How many times start_training was called, per model id (409s included)."""
    counters: dict[str, Any] = httpx.get(f"{sim.base_url}/_sim/counters").json()
    starts: dict[str, int] = counters["training_starts"]
    return starts


def finish_training(sim: SimServer, model_id: str) -> None:
    httpx.post(f"{sim.base_url}/_sim/models/{model_id}/finish").raise_for_status()


def types(events: FleetEvents, job_id: str) -> list[str]:
    return [event["type"] for event in events.events(job_id)]


async def started_model(events: FleetEvents, job_id: str) -> str:
    """The model id of ``job_id``'s training.started event, once it arrives."""
    await events.tail.wait_for(
        lambda: "training.started" in types(events, job_id), what="training.started"
    )
    (started,) = [e for e in events.events(job_id) if e["type"] == "training.started"]
    return str(started["data"]["model_id"])


async def test_a_training_runs_from_a_draft_dataset_to_completed(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    training_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await training_worker(start_worker, sim).wait_ready()
    job_id = job_ids("train")
    await submit("training", train(job_id, dataset_id="201"))

    await training_events.wait_terminal([job_id])

    seen = types(training_events, job_id)
    assert seen[0] == "training.started"
    assert seen[-1] == "training.completed"
    changes = [e for e in training_events.events(job_id) if e["type"] == "training.status_changed"]
    assert changes, seen
    assert changes[0]["data"]["status"] == "in_progress"
    (done,) = training_events.terminal(job_id)
    model_id = done["data"]["model_id"]
    assert done["data"]["dataset_id"] == "201"
    assert done["data"]["training_version"] == "light"
    assert done["data"]["duration_seconds"] >= 0
    assert all(e["data"]["model_id"] == model_id for e in training_events.events(job_id))
    completing = calls(sim, "/datasets/{dataset_id}")
    assert [c["fields"].get("status") for c in completing if c["method"] == "PUT"] == ["completed"]
    created = [c for c in calls(sim, "/models") if c["method"] == "POST" and c["status"] == 201]
    assert [c["fields"]["name"] for c in created] == [f"model-{job_id}"]
    assert training_starts(sim) == {model_id: 1}


async def test_a_redelivered_request_starts_training_once_and_ends_in_one_event(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    training_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await training_worker(start_worker, sim).wait_ready()
    job_id = job_ids("twice")
    await submit("training", train(job_id))
    await submit("training", train(job_id))
    await training_events.wait_terminal([job_id])

    await submit("training", train(job_id))
    await training_events.tail.wait_for(
        lambda: types(training_events, job_id).count("training.completed") == 2,
        what="the re-emitted training.completed",
    )

    (done,) = training_events.terminal(job_id)
    assert done["type"] == "training.completed"
    assert types(training_events, job_id).count("training.started") == 1
    assert training_starts(sim) == {done["data"]["model_id"]: 1}


async def test_two_jobs_for_one_model_name_share_one_training_and_both_complete(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    training_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    set_timing(sim, training_seconds=60.0)
    await training_worker(start_worker, sim).wait_ready()
    first, second = job_ids("first"), job_ids("second")
    name = f"shared-{first}"
    await submit("training", train(first, name))
    model_id = await started_model(training_events, first)
    await submit("training", train(second, name))
    assert await started_model(training_events, second) == model_id

    finish_training(sim, model_id)
    await training_events.wait_terminal([first, second])

    for job_id in (first, second):
        (done,) = training_events.terminal(job_id)
        assert done["type"] == "training.completed"
        assert done["data"]["model_id"] == model_id
    created = [c for c in calls(sim, "/models") if c["method"] == "POST" and c["status"] == 201]
    assert len(created) == 1
    assert training_starts(sim) == {model_id: 1}


async def test_a_training_watched_across_a_worker_restart_completes_once(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    training_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    set_timing(sim, training_seconds=60.0)
    worker = training_worker(start_worker, sim)
    await worker.wait_ready()
    job_id = job_ids("restart")
    await submit("training", train(job_id))
    model_id = await started_model(training_events, job_id)

    worker.signal(signal.SIGKILL)
    worker.wait_exit()
    assert not training_events.terminal(job_id), "too late to test a resume"
    await training_worker(start_worker, sim).wait_ready()
    finish_training(sim, model_id)
    await training_events.wait_terminal([job_id])

    # A redelivered request may re-emit the same event (same id); terminal() collapses those.
    (done,) = training_events.terminal(job_id)
    assert done["type"] == "training.completed"
    assert training_starts(sim) == {model_id: 1}


async def test_a_stop_during_training_ends_the_train_and_stop_jobs_in_training_stopped(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    training_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    set_timing(sim, training_seconds=60.0, stopping_seconds=0.5)
    await training_worker(start_worker, sim).wait_ready()
    train_job, stop_job = job_ids("train"), job_ids("stop")
    await submit("training", train(train_job))
    model_id = await started_model(training_events, train_job)

    await submit("training", stop(stop_job, model_id))
    await training_events.wait_terminal([train_job, stop_job])

    (trained,) = training_events.terminal(train_job)
    assert trained["type"] == "training.stopped"
    assert trained["data"]["model_id"] == model_id
    assert trained["data"]["reason"] == "requested"
    (stopped,) = training_events.terminal(stop_job)
    assert stopped["type"] == "training.stopped"
    assert stopped["data"]["model_id"] == model_id
    assert stopped["data"]["reason"] == "requested"
    assert len(calls(sim, "/stop_training")) == 1


async def test_stopping_an_already_completed_model_is_not_an_error(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    training_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await training_worker(start_worker, sim).wait_ready()
    job_id = job_ids("late-stop")
    await submit("training", stop(job_id, "300"))

    await training_events.wait_terminal([job_id])

    (event,) = training_events.terminal(job_id)
    assert event["type"] == "training.completed"
    assert event["data"]["model_id"] == "300"
    assert event["data"]["dataset_id"] == "200"
    assert "error" not in event or event["error"] is None
    assert [c["status"] for c in calls(sim, "/stop_training")] == [409]


async def test_a_failed_training_ends_in_training_failed(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    training_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    set_faults(sim, training_failure_rate=1.0)
    await training_worker(start_worker, sim).wait_ready()
    job_id = job_ids("doomed")
    await submit("training", train(job_id))

    await training_events.wait_terminal([job_id])

    (event,) = training_events.terminal(job_id)
    assert event["type"] == "training.failed"
    assert event["error"]["code"] == "training_failed"
    assert event["error"]["retriable"] is False
    model_id = event["data"]["model_id"]
    assert event["data"] == {
        "op": "train_model",
        "model_id": model_id,
        "dataset_id": "200",
        "status": "failed",
    }
    assert training_starts(sim) == {model_id: 1}


async def test_a_draft_dataset_that_may_not_be_completed_fails_the_job_once(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    training_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await training_worker(start_worker, sim).wait_ready()
    job_id = job_ids("draft")
    await submit("training", train(job_id, dataset_id="201", complete_dataset_if_needed=False))

    await training_events.wait_terminal([job_id])

    (event,) = training_events.terminal(job_id)
    assert event["type"] == "training.failed"
    assert event["error"]["code"] == "dataset_not_completed"
    assert "complete_dataset_if_needed" in event["error"]["message"]
    assert event["data"] == {
        "op": "train_model",
        "model_id": None,
        "dataset_id": "201",
        "status": None,
    }
    assert types(training_events, job_id) == ["training.failed"]
    assert not [c for c in calls(sim) if c["method"] in ("POST", "PUT")]


async def test_bad_input_is_dead_lettered_and_the_next_job_completes(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    training_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await training_worker(start_worker, sim).wait_ready()
    both_id, valid_id = job_ids("model-and-id"), job_ids("ok")
    await submit("training", b"{not json", key="malformed")
    await submit("training", train(both_id, model_id="300"))
    await submit("training", train(valid_id))

    await training_events.wait_terminal([both_id, valid_id])
    await training_events.tail.wait_for(
        lambda: len(training_events.dead_letters()) >= 2, what="two dead letters"
    )

    letters = {letter.key: letter for letter in training_events.dead_letters()}
    assert set(letters) == {"malformed", both_id}
    for letter in letters.values():
        assert letter.headers["bria_error_code"] == "invalid_request"
        assert letter.headers["bria_source_topic"] == "bria.training.requests"
    (failed,) = training_events.terminal(both_id)
    assert failed["type"] == "training.failed"
    assert failed["error"]["code"] == "invalid_request"
    (done,) = training_events.terminal(valid_id)
    assert done["type"] == "training.completed"


async def test_metrics_show_the_detection_delay_of_a_completed_training(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    training_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    worker = training_worker(start_worker, sim)
    await worker.wait_ready()
    job_id = job_ids("metrics")
    await submit("training", train(job_id))
    await training_events.wait_terminal([job_id])

    metrics = (await http_get(f"{worker.url}/metrics")).text

    assert 'bria_fleet_poll_detection_delay_seconds_count{kind="training"} 1.0' in metrics
    assert 'bria_fleet_poll_requests_total{kind="training",outcome="completed"} 1.0' in metrics
