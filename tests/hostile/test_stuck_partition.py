"""/healthz of a real worker turns 503 while a partition makes no progress, and back."""

import asyncio
import time
import uuid

import pytest

from bria_fleet.sim import SimServer
from tests.fixtures.fleet import FleetEvents, StartWorker, Submit
from tests.hostile.requests import valid_request
from tests.workers.helpers import http_get, set_faults

pytestmark = pytest.mark.integration


async def _wait_for_health(url: str, status: int, within: float = 30.0) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        response = await http_get(f"{url}/healthz")
        if response.status_code == status:
            return response.text
        await asyncio.sleep(0.1)
    pytest.fail(f"/healthz never answered {status} within {within:g} s")


async def test_healthz_fails_naming_the_partition_while_a_delivery_outlives_the_limit(
    sim: SimServer, start_worker: StartWorker, submit: Submit, generation_events: FleetEvents
) -> None:
    worker = start_worker(
        "generation",
        api_base_url=sim.base_url,
        api_token=sim.token,
        WORKER_STUCK_AFTER_SECONDS="0.5",
    )
    await worker.wait_ready()
    assert (await http_get(f"{worker.url}/healthz")).status_code == 200
    set_faults(sim, latency={"fixed_seconds": 4.0})
    job_id = f"stuck-{uuid.uuid4().hex[:8]}"
    await submit("generation", valid_request("generation", job_id))

    reason = await _wait_for_health(worker.url, 503)
    assert "bria.generation.requests-" in reason
    assert "has made no progress" in reason

    await generation_events.wait_terminal([job_id])
    await _wait_for_health(worker.url, 200)
