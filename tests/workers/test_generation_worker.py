"""The generation worker end to end: a real broker, the simulator, a real worker process."""

import itertools
import signal
import struct
import time
import zlib
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer

from bria_fleet.kafka_client import aiokafka_options
from bria_fleet.settings import KafkaSettings
from bria_fleet.sim import SimServer
from bria_fleet_contracts import topics_for
from tests.fixtures.fleet import FleetEvents, StartWorker, Submit, WorkerProcess
from tests.workers.helpers import (
    calls,
    example,
    http_get,
    most_concurrent,
    prompt_counts,
    set_faults,
    set_timing,
)

pytestmark = pytest.mark.integration

OPS = (
    "text_to_image",
    "text_to_vector",
    "reimagine",
    "restyle_portrait",
    "fibo_generate_image",
    "fibo_structured_prompt",
)
FAST_POLLS = '{"generation": {"first_delay": 0.1, "growth": 1.0, "cap": 0.2, "deadline": 60}}'
JobIds = Callable[[str], str]
TOPICS = topics_for("generation")


def generation_worker(start_worker: StartWorker, sim: SimServer, **env: str) -> WorkerProcess:
    settings = {"WORKER_RETRY_DELAYS": "[0.5, 0.5]", "WORKER_POLL_POLICIES": FAST_POLLS, **env}
    return start_worker("generation", api_base_url=sim.base_url, api_token=sim.token, **settings)


def text_to_image(job_id: str, **changes: object) -> dict[str, object]:
    """A text-to-image request whose prompt names its job, so simulator calls map to jobs."""
    return example("generation", "text_to_image", job_id, prompt=f"a cat for {job_id}", **changes)


def png_is_valid(data: bytes) -> bool:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return False
    length, kind = struct.unpack(">I4s", data[8:16])
    header = data[16 : 16 + length]
    (crc,) = struct.unpack(">I", data[16 + length : 20 + length])
    return kind == b"IHDR" and zlib.crc32(kind + header) == crc


async def test_every_op_ends_in_a_generated_asset_event(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await generation_worker(start_worker, sim).wait_ready()
    jobs = {op: job_ids(op) for op in OPS}
    for op, job_id in jobs.items():
        await submit("generation", example("generation", op, job_id))

    await generation_events.wait_terminal(jobs.values())

    for op, job_id in jobs.items():
        (event,) = generation_events.terminal(job_id)
        assert event["type"] == "generation.completed", (op, event)
        assert event["data"]["op"] == op
        assert event["data"]["request"]["job_id"] == job_id
        assert event["metadata"] == example("generation", op, job_id).get("metadata", {})
        if op == "fibo_structured_prompt":
            assert event["data"]["structured_prompt"], event
            continue
        assets = event["data"]["assets"]
        assert assets, (op, event)
        for asset in assets:
            body = (await http_get(asset["url"])).content
            if op == "text_to_vector":
                assert asset["kind"] == "vector"
                assert b"<svg" in body
            else:
                assert asset["kind"] == "image"
                assert png_is_valid(body), asset["url"]


async def test_many_jobs_call_the_api_at_once_beyond_the_partition_count_up_to_the_limit(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    set_faults(sim, latency={"fixed_seconds": 0.3})
    await generation_worker(start_worker, sim, WORKER_CONCURRENCY="8").wait_ready()
    jobs = [job_ids(f"job{n}") for n in range(32)]
    for job_id in jobs:
        await submit("generation", text_to_image(job_id))

    await generation_events.wait_terminal(jobs)

    assert all(generation_events.terminal(j)[0]["type"] == "generation.completed" for j in jobs)
    # The requests topic has 3 partitions: one job per partition at a time would peak at 3.
    # Up to 2 x 8 jobs are dispatched at once; only 8 of them may be calling the API.
    assert most_concurrent(calls(sim, "text-to-image")) == 8


async def test_jobs_with_one_key_run_one_at_a_time_in_the_order_they_were_sent(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    set_faults(sim, seed=7, latency={"fixed_seconds": 0.01, "jitter_seconds": 0.2})
    await generation_worker(start_worker, sim, WORKER_CONCURRENCY="16").wait_ready()
    ordered = [job_ids(f"brand{n}") for n in range(12)]
    others = [job_ids(f"other{n}") for n in range(12)]
    for brand_job, other_job in zip(ordered, others, strict=True):
        await submit("generation", text_to_image(brand_job), key="brand-42")
        await submit("generation", text_to_image(other_job))

    await generation_events.wait_terminal(ordered + others)

    prompts = {f"a cat for {job_id}": job_id for job_id in ordered}
    served = [call for call in calls(sim, "text-to-image") if call["fields"]["prompt"] in prompts]
    order = [prompts[call["fields"]["prompt"]].rsplit("-", 1)[1] for call in served]
    timeline = [
        (name, round(call["at"] - call["duration_ms"] / 1000 - served[0]["at"], 3), call["seq"])
        for name, call in zip(order, served, strict=True)
    ]
    assert order == [job_id.rsplit("-", 1)[1] for job_id in ordered], " ".join(map(str, timeline))
    for earlier, later in itertools.pairwise(served):
        later_started = later["at"] - later["duration_ms"] / 1000.0
        assert later_started >= earlier["at"], "two jobs of one key ran at the same time"


async def test_a_burst_of_429s_and_5xx_is_absorbed(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await generation_worker(start_worker, sim).wait_ready()
    # Two seconds in which every call answers 429 (with Retry-After), then 30 % 503s.
    set_faults(
        sim,
        seed=3,
        throttle_seconds=2.0,
        errors=[{"pattern": "*text-to-image*", "rate": 0.3, "status": 503}],
    )
    jobs = [job_ids(f"job{n}") for n in range(10)]
    for job_id in jobs:
        await submit("generation", text_to_image(job_id))

    await generation_events.wait_terminal(jobs, within=90)

    statuses = {call["status"] for call in calls(sim, "text-to-image")}
    assert {429, 503} <= statuses, "the faults were not hit, so the test proves nothing"
    for job_id in jobs:
        (event,) = generation_events.terminal(job_id)
        assert event["type"] == "generation.completed", event.get("error")


async def test_a_permanent_4xx_fails_the_job_once_without_retrying(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await generation_worker(start_worker, sim).wait_ready()
    job_id = job_ids("unknown-model")
    await submit("generation", text_to_image(job_id, model_id="999999"))

    await generation_events.wait_terminal([job_id])

    (event,) = generation_events.terminal(job_id)
    assert event["type"] == "generation.failed"
    assert event["error"]["http_status"] == 404
    assert event["error"]["retriable"] is False
    assert event["data"] == {"op": "text_to_image", "model_id": "999999"}
    assert prompt_counts(sim, "text-to-image")[f"a cat for {job_id}"] == 1
    assert not generation_events.tail.on(generation_events.topics.retry)


async def test_bad_messages_go_to_the_dead_letter_topic_and_the_next_job_completes(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await generation_worker(start_worker, sim).wait_ready()
    invalid_id, unknown_op_id, valid_id = job_ids("invalid"), job_ids("unknown-op"), job_ids("ok")
    await submit("generation", b"{this is not json", key="malformed")
    await submit("generation", text_to_image(invalid_id, num_results=5))
    await submit("generation", {"job_id": unknown_op_id, "op": "paint_a_picture"})
    await submit("generation", text_to_image(valid_id))

    await generation_events.wait_terminal([invalid_id, unknown_op_id, valid_id])
    await generation_events.tail.wait_for(
        lambda: len(generation_events.dead_letters()) >= 3, what="three dead letters"
    )

    letters = {letter.key: letter for letter in generation_events.dead_letters()}
    assert "not valid JSON" in letters["malformed"].headers["bria_error"]
    assert "num_results" in letters[invalid_id].headers["bria_error"]
    assert "paint_a_picture" in letters[unknown_op_id].headers["bria_error"]
    for letter in letters.values():
        assert letter.headers["bria_error_code"] == "invalid_request"
        assert letter.headers["bria_source_topic"] == "bria.generation.requests"
    for job_id in (invalid_id, unknown_op_id):
        (event,) = generation_events.terminal(job_id)
        assert event["type"] == "generation.failed"
        assert event["error"]["code"] == "invalid_request"
    (event,) = generation_events.terminal(valid_id)
    assert event["type"] == "generation.completed"


async def test_an_outage_longer_than_in_process_retries_goes_through_the_retry_topic(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await generation_worker(
        start_worker, sim, BRIA_API_RETRY_ATTEMPTS="1", WORKER_RETRY_DELAYS="[3, 3]"
    ).wait_ready()
    set_faults(sim, outage_seconds=2.0)
    job_id = job_ids("outage")
    await submit("generation", text_to_image(job_id))

    await generation_events.wait_terminal([job_id], within=30)

    (retried,) = generation_events.tail.on(generation_events.topics.retry)
    assert retried.key == job_id
    assert retried.headers["bria_attempt"] == "1"
    assert retried.headers["bria_error_code"]
    (event,) = generation_events.terminal(job_id)
    assert event["type"] == "generation.completed"


async def test_a_job_that_keeps_failing_transiently_is_dead_lettered_with_a_failure_event(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await generation_worker(
        start_worker, sim, BRIA_API_RETRY_ATTEMPTS="1", WORKER_RETRY_DELAYS="[0.2, 0.2]"
    ).wait_ready()
    # Every call answers 503 with no Retry-After (one would hold the job back that long).
    set_faults(sim, errors=[{"rate": 1.0, "status": 503}])
    job_id = job_ids("doomed")
    await submit("generation", text_to_image(job_id))

    await generation_events.wait_terminal([job_id], within=30)

    (event,) = generation_events.terminal(job_id)
    assert event["type"] == "generation.failed"
    assert event["error"]["retriable"] is True
    assert event["error"]["http_status"] == 503
    assert len(generation_events.tail.on(generation_events.topics.retry)) == 2
    (letter,) = generation_events.dead_letters()
    assert letter.key == job_id
    assert "gave up after 3 attempts" in letter.headers["bria_error"]


async def test_a_redelivered_finished_job_re_emits_its_event_without_calling_the_api(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await generation_worker(start_worker, sim).wait_ready()
    job_id = job_ids("once")
    await submit("generation", text_to_image(job_id))
    await generation_events.wait_terminal([job_id])

    await submit("generation", text_to_image(job_id))
    await generation_events.tail.wait_for(
        lambda: len(generation_events.events(job_id)) == 2, what="the re-emitted event"
    )

    first, again = generation_events.events(job_id)
    assert again == first
    assert prompt_counts(sim, "text-to-image")[f"a cat for {job_id}"] == 1


async def test_a_finished_job_is_forgotten_after_its_retention_and_then_runs_again(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
    fleet_topics: KafkaSettings,
) -> None:
    worker = generation_worker(start_worker, sim, WORKER_FINISHED_RETENTION_SECONDS="1")
    await worker.wait_ready()
    job_id = job_ids("forgotten")
    await submit("generation", text_to_image(job_id))
    await generation_events.wait_terminal([job_id])

    await wait_for_tombstone(fleet_topics, TOPICS.operations, f"job:{job_id}")
    await submit("generation", text_to_image(job_id))
    await generation_events.tail.wait_for(
        lambda: len(generation_events.events(job_id)) == 2, what="the second run's event"
    )

    assert prompt_counts(sim, "text-to-image")[f"a cat for {job_id}"] == 2


async def wait_for_tombstone(settings: KafkaSettings, topic: str, key: str) -> None:
    """Read ``topic`` from the beginning until a record deletes ``key``."""
    consumer = AIOKafkaConsumer(
        topic, **aiokafka_options(settings), auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for message in itertools.chain.from_iterable(batches.values()):
                if message.key == key.encode() and message.value is None:
                    return
    finally:
        await consumer.stop()
    pytest.fail(f"no tombstone for {key} on {topic} within 30 s")


async def test_a_worker_killed_mid_batch_ends_every_job_exactly_once(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    set_faults(sim, latency={"fixed_seconds": 0.2})
    worker = generation_worker(start_worker, sim, WORKER_CONCURRENCY="8")
    await worker.wait_ready()
    jobs = [job_ids(f"job{n}") for n in range(60)]
    for job_id in jobs:
        await submit("generation", text_to_image(job_id))
    await generation_events.tail.wait_for(
        lambda: sum(bool(generation_events.terminal(j)) for j in jobs) >= 15,
        what="a quarter of the jobs",
    )

    worker.signal(signal.SIGKILL)
    worker.wait_exit()
    finished_before_kill = [j for j in jobs if generation_events.terminal(j)]
    unfinished_at_kill = len(jobs) - len(finished_before_kill)
    await generation_worker(start_worker, sim, WORKER_CONCURRENCY="8").wait_ready()
    await generation_events.wait_terminal(jobs, within=120)

    # A job whose generation was in flight at the kill may have been paid for: it ends in
    # api_outcome_unknown rather than being sent again (README, "Retries"); the others
    # complete.
    for job_id in jobs:
        terminal = generation_events.terminal(job_id)
        assert len(terminal) == 1, terminal
        if terminal[0]["type"] == "generation.failed":
            assert terminal[0]["error"]["code"] == "api_outcome_unknown"
            assert "earlier attempt" in terminal[0]["error"]["message"]
        else:
            assert terminal[0]["type"] == "generation.completed"
    sent = prompt_counts(sim, "text-to-image")
    assert all(sent[f"a cat for {job_id}"] <= 1 for job_id in jobs), "a generation paid twice"
    for job_id in finished_before_kill:
        assert generation_events.terminal(job_id)[0]["type"] == "generation.completed"
        assert sent[f"a cat for {job_id}"] == 1, job_id
    assert unfinished_at_kill > 0, "the kill came too late to test anything"


async def test_graceful_shutdown_finishes_in_flight_jobs_and_loses_nothing(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    set_faults(sim, latency={"fixed_seconds": 0.3})
    worker = generation_worker(start_worker, sim, WORKER_CONCURRENCY="8")
    await worker.wait_ready()
    jobs = [job_ids(f"job{n}") for n in range(40)]
    for job_id in jobs:
        await submit("generation", text_to_image(job_id))
    await generation_events.tail.wait_for(
        lambda: sum(bool(generation_events.terminal(j)) for j in jobs) >= 8,
        what="some jobs",
    )

    worker.signal(signal.SIGTERM)
    assert worker.wait_exit() == 0
    await generation_worker(start_worker, sim, WORKER_CONCURRENCY="8").wait_ready()
    await generation_events.wait_terminal(jobs, within=120)

    for job_id in jobs:
        assert len(generation_events.terminal(job_id)) == 1
    repeated = {p: n for p, n in prompt_counts(sim, "text-to-image").items() if n > 1}
    assert repeated == {}


async def test_the_watcher_resumes_async_jobs_after_a_restart(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    set_timing(sim, generation_seconds=4.0)
    worker = generation_worker(start_worker, sim)
    await worker.wait_ready()
    jobs = [job_ids(f"fibo{n}") for n in range(5)]
    for job_id in jobs:
        request = example("generation", "fibo_generate_image", job_id, prompt=f"a dog {job_id}")
        await submit("generation", request)
    await generation_events.tail.wait_for(
        lambda: len(prompt_counts(sim, "/v2/image/generate", status=202)) >= len(jobs),
        what="every async generation to be accepted",
    )

    worker.signal(signal.SIGKILL)
    worker.wait_exit()
    assert not any(generation_events.terminal(j) for j in jobs), "too late to test a resume"
    await generation_worker(start_worker, sim).wait_ready()
    await generation_events.wait_terminal(jobs, within=60)

    for job_id in jobs:
        (event,) = generation_events.terminal(job_id)
        assert event["type"] == "generation.completed"
        assert event["data"]["assets"]
    accepted = prompt_counts(sim, "/v2/image/generate")
    assert all(accepted[f"a dog {job_id}"] == 1 for job_id in jobs)


async def test_metrics_show_consumption_api_calls_and_polls(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    worker = generation_worker(start_worker, sim)
    await worker.wait_ready()
    job_id = job_ids("fibo")
    await submit("generation", example("generation", "fibo_generate_image", job_id))
    await generation_events.wait_terminal([job_id])

    metrics = (await http_get(f"{worker.url}/metrics")).text

    assert "faststream_received_messages_total" in metrics
    assert 'bria_fleet_api_requests_total{method="POST",route="/v2/image/generate/tailored"' in (
        metrics
    )
    assert 'bria_fleet_poll_requests_total{kind="generation",outcome="completed"} 1.0' in metrics
    assert 'bria_fleet_poll_detection_delay_seconds_count{kind="generation"} 1.0' in metrics
    assert 'bria_fleet_jobs_total{domain="generation",outcome="completed"}' in metrics
    assert (await http_get(f"{worker.url}/healthz")).status_code == 200
