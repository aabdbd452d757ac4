"""Webhooks as the fast path, polling as the backstop: a real broker, simulator and workers.

Poll policies here are slow (the first poll after a minute), so a job that ends within
seconds was finished by its webhook. Every scenario must still end each job in exactly one
terminal event.
"""

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bria_fleet.sim import SimServer
from tests.fixtures.fleet import FleetEvents, StartWorker, Submit, WorkerProcess
from tests.fixtures.kafka import free_port
from tests.workers.helpers import example, set_faults

pytestmark = pytest.mark.integration

JobIds = Callable[[str], str]
SLOW_POLLS = '{"generation": {"first_delay": 60, "growth": 1.0, "cap": 60, "deadline": 600}}'
FAST_POLLS = '{"generation": {"first_delay": 0.1, "growth": 1.0, "cap": 0.1, "deadline": 60}}'
WEBHOOK_WINDOW_SECONDS = 20.0  # well before the first poll of SLOW_POLLS


async def _webhook_worker(
    start_worker: StartWorker, sim: SimServer, polls: str = SLOW_POLLS, **env: str
) -> WorkerProcess:
    port = free_port()
    worker = start_worker(
        "generation",
        api_base_url=sim.base_url,
        api_token=sim.token,
        HTTP_PORT=str(port),
        WORKER_WEBHOOK_PUBLIC_URL=f"http://127.0.0.1:{port}",
        WORKER_POLL_POLICIES=polls,
        **env,
    )
    await worker.wait_ready()
    return worker


def _fibo(job_id: str) -> dict[str, Any]:
    return example("generation", "fibo_generate_image", job_id, prompt=f"a fox for {job_id}")


async def _webhook_attempts(sim: SimServer) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        answer = await client.get(f"{sim.base_url}/_sim/webhooks")
    attempts: list[dict[str, Any]] = answer.json()["attempts"]
    return attempts


async def _metric(worker: WorkerProcess, name: str, **labels: str) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{worker.url}/metrics")).text
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    total = 0.0
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}") or (not labels and line.startswith(f"{name} ")):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_a_webhook_finishes_a_watched_generation_long_before_its_first_poll(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    worker = await _webhook_worker(start_worker, sim)
    jobs = [job_ids(f"job{n}") for n in range(5)]
    for job_id in jobs:
        await submit("generation", _fibo(job_id))

    await generation_events.wait_terminal(jobs, within=WEBHOOK_WINDOW_SECONDS)

    attempts = await _webhook_attempts(sim)
    for job_id in jobs:
        (event,) = generation_events.terminal(job_id)
        assert event["type"] == "generation.completed"
        assert event["data"]["api_request_id"] in {a["request_id"] for a in attempts}
    assert {a["status"] for a in attempts} == {202}
    assert await _metric(worker, "bria_fleet_webhooks_total", outcome="nudged") == len(jobs)
    delays = await _metric(worker, "bria_fleet_poll_detection_delay_seconds_count")
    assert delays == len(jobs)
    # From the API's completion to our event, every job within a second (the 1.0 bucket).
    within_a_second = await _metric(
        worker, "bria_fleet_poll_detection_delay_seconds_bucket", kind="generation", le="1.0"
    )
    assert within_a_second == len(jobs)


async def test_duplicate_and_late_webhooks_racing_polls_end_each_job_once(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    # Polls every 0.1 s race the webhooks; each webhook comes twice, up to a second late.
    await _webhook_worker(start_worker, sim, polls=FAST_POLLS)
    set_faults(
        sim,
        seed=5,
        webhooks={"duplicate_rate": 1.0, "delay_seconds": 0.1, "delay_jitter_seconds": 1.0},
    )
    jobs = [job_ids(f"job{n}") for n in range(8)]
    for job_id in jobs:
        await submit("generation", _fibo(job_id))

    await generation_events.wait_terminal(jobs, within=60)
    await asyncio.sleep(2.0)  # every late duplicate delivered and handled

    for job_id in jobs:
        assert len(generation_events.terminal(job_id)) == 1
        terminal_types = ("generation.completed", "generation.failed")
        published = [e for e in generation_events.events(job_id) if e["type"] in terminal_types]
        assert len(published) == 1
    attempts = await _webhook_attempts(sim)
    assert len(attempts) == len(jobs)
    assert all(a["status"] == 202 for a in attempts)


async def test_a_badly_signed_webhook_is_refused_and_polling_finishes_the_job(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    worker = await _webhook_worker(start_worker, sim, polls=FAST_POLLS)
    set_faults(sim, webhooks={"bad_signature_rate": 1.0})
    job_id = job_ids("impostor")
    await submit("generation", _fibo(job_id))

    await generation_events.wait_terminal([job_id], within=60)

    (event,) = generation_events.terminal(job_id)
    assert event["type"] == "generation.completed"
    assert {a["status"] for a in await _webhook_attempts(sim)} == {401}
    assert await _metric(worker, "bria_fleet_webhooks_total", outcome="rejected") >= 1
    assert await _metric(worker, "bria_fleet_webhooks_total", outcome="nudged") == 0


async def test_a_webhook_for_an_unknown_request_is_accepted_and_ignored(
    sim: SimServer, start_worker: StartWorker
) -> None:
    worker = await _webhook_worker(start_worker, sim)
    from bria_fleet.sim.webhooks import sign

    body = b'{"request_id":"nobody-asked","status":"COMPLETED"}'
    headers = {
        "Bria-Webhook-Id": "nobody-asked",
        "Bria-Webhook-Timestamp": "1700000000",
        "Bria-Webhook-Signature": sign(sim.token, "nobody-asked", "1700000000", body),
    }
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{worker.url}/webhooks/bria", content=body, headers=headers)
        unsigned = await client.post(f"{worker.url}/webhooks/bria", content=body)
    assert answer.status_code == 202
    assert unsigned.status_code == 401
    assert await _metric(worker, "bria_fleet_webhooks_total", outcome="unknown") == 1


async def test_webhooks_delivered_to_a_replica_that_does_not_own_the_watch_still_finish_it(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    # Both replicas ask for webhooks at replica B's address, so B receives every delivery;
    # the watches in partitions that A owns reach A through nudge records.
    port_b = free_port()
    url_b = f"http://127.0.0.1:{port_b}"
    common = {"WORKER_POLL_POLICIES": SLOW_POLLS, "WORKER_WEBHOOK_PUBLIC_URL": url_b}
    replica_a = start_worker("generation", api_base_url=sim.base_url, api_token=sim.token, **common)
    replica_b = start_worker(
        "generation",
        api_base_url=sim.base_url,
        api_token=sim.token,
        HTTP_PORT=str(port_b),
        **common,
    )
    await replica_a.wait_ready()
    await replica_b.wait_ready()
    await asyncio.sleep(3.0)  # both in the watcher group, the operations partitions split
    jobs = [job_ids(f"job{n}") for n in range(12)]
    for job_id in jobs:
        await submit("generation", _fibo(job_id))

    await generation_events.wait_terminal(jobs, within=WEBHOOK_WINDOW_SECONDS)

    for job_id in jobs:
        (event,) = generation_events.terminal(job_id)
        assert event["type"] == "generation.completed"
    assert await _metric(replica_b, "bria_fleet_webhooks_total", outcome="nudged") == len(jobs)
    finished_by_a = await _metric(replica_a, "bria_fleet_poll_detection_delay_seconds_count")
    finished_by_b = await _metric(replica_b, "bria_fleet_poll_detection_delay_seconds_count")
    assert finished_by_a + finished_by_b == len(jobs)
    assert finished_by_a > 0, "replica A owned no watch, so no nudge crossed replicas"


async def test_with_every_webhook_lost_polling_still_finishes_every_job(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await _webhook_worker(start_worker, sim, polls=FAST_POLLS)
    set_faults(sim, webhooks={"drop_rate": 1.0})
    jobs = [job_ids(f"job{n}") for n in range(5)]
    for job_id in jobs:
        await submit("generation", _fibo(job_id))

    await generation_events.wait_terminal(jobs, within=60)

    for job_id in jobs:
        (event,) = generation_events.terminal(job_id)
        assert event["type"] == "generation.completed"
    attempts = await _webhook_attempts(sim)
    assert [a["error"] for a in attempts] == ["dropped"] * len(jobs)
