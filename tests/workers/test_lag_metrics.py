"""A worker that falls behind says so on /metrics: consumer lag and the oldest job's age."""

import asyncio
import time

import httpx
import pytest

from bria_fleet.sim import SimServer
from bria_fleet_contracts import topics_for
from tests.fixtures.fleet import FleetEvents, StartWorker, Submit
from tests.workers.helpers import example, set_faults

pytestmark = pytest.mark.integration

TOPICS = topics_for("generation")


def samples(text: str, name: str) -> dict[str, float]:
    """``{labels: value}`` of every sample of ``name`` in a Prometheus text exposition."""
    found = {}
    for line in text.splitlines():
        if line.startswith(name + "{"):
            labels, _, value = line.rpartition(" ")
            found[labels[len(name) :]] = float(value)
    return found


async def test_lag_and_oldest_job_age_rise_while_behind_and_fall_back_to_zero(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
) -> None:
    set_faults(sim, latency={"fixed_seconds": 1.0})
    worker = start_worker(
        "generation", api_base_url=sim.base_url, api_token=sim.token, WORKER_CONCURRENCY="2"
    )
    await worker.wait_ready()
    jobs = [f"lag-{time.monotonic_ns()}-{n}" for n in range(40)]
    for job in jobs:
        await submit("generation", example("generation", "text_to_image", job))

    behind_lag: dict[str, float] = {}
    behind_age = 0.0
    async with httpx.AsyncClient() as client:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (behind_age > 1.0 and behind_lag):
            text = (await client.get(f"{worker.url}/metrics")).text
            lag = samples(text, "bria_fleet_consumer_lag")
            behind_lag = {labels: v for labels, v in lag.items() if v > 0}
            behind_age = samples(text, "bria_fleet_oldest_job_age_seconds").get(
                '{domain="generation"}', 0.0
            )
            await asyncio.sleep(0.5)
        assert behind_age > 1.0, "the oldest job's age never showed the backlog"
        assert behind_lag, f"no partition ever showed lag: {lag}"
        assert all(f'topic="{TOPICS.requests}"' in labels for labels in behind_lag)

        set_faults(sim)
        await generation_events.wait_terminal(jobs, within=120)
        await asyncio.sleep(6)  # one more lag sample after the last fetch
        text = (await client.get(f"{worker.url}/metrics")).text
    lag = samples(text, "bria_fleet_consumer_lag")
    assert {labels for labels in lag if f'topic="{TOPICS.retry}"' in labels}, lag
    assert all(value == 0 for value in lag.values()), lag
    assert samples(text, "bria_fleet_oldest_job_age_seconds")['{domain="generation"}'] == 0
