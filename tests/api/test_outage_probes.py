"""An outage with Retry-After sees a trickle of probes, not the backlog at every expiry."""

import asyncio
import time

import httpx

from bria_fleet.api import Throttle, create_api
from bria_fleet.metrics import API_HELD_BACK
from tests.api.conftest import settings

OUTAGE_SECONDS = 1.5
CALLERS = 30


async def test_callers_held_by_retry_after_probe_a_few_at_a_time_and_all_succeed() -> None:
    started = time.monotonic()
    during_outage = 0

    async def answer(request: httpx.Request) -> httpx.Response:
        nonlocal during_outage
        await asyncio.sleep(0.02)  # the network: every caller is in flight before an answer
        if time.monotonic() - started < OUTAGE_SECONDS:
            during_outage += 1
            return httpx.Response(503, headers={"Retry-After": "0.3"}, json={"message": "down"})
        return httpx.Response(200, json={"id": 7, "name": "m", "status": "Completed"})

    held_before = API_HELD_BACK._value.get()
    api = create_api(
        settings(retry_attempts=50, retry_budget_seconds=30.0),
        client=httpx.AsyncClient(transport=httpx.MockTransport(answer)),
        throttle=Throttle(),
    )
    models = await asyncio.gather(*(api.get_model("7") for _ in range(CALLERS)))

    assert [m.id for m in models] == ["7"] * CALLERS
    # Everyone goes once before any answer is back; after that, only probes while it is down.
    # (Released all at once at each expiry, the backlog would make about 5 x 30 requests.)
    probes = during_outage - CALLERS
    assert probes <= CALLERS, f"{probes} requests after the first burst during the outage"
    assert API_HELD_BACK._value.get() - held_before >= CALLERS
