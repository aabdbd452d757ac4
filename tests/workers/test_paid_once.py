"""No generation is paid twice by default: the POST policy through a real worker and broker.

The simulator runs every generation and then loses its answer (a 500 after the effect, or
a hang past the client's timeout). Under the default policy each job sends its generation
once, ends in ``generation.failed`` with ``api_outcome_unknown``, and never goes through the
retry topic. With ``BRIA_API_REPEAT_UNCERTAIN_GENERATIONS`` the jobs complete, and each lost
answer costs exactly one extra generation (README, "Retries").
"""

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bria_fleet.sim import SimServer
from tests.fixtures.fleet import FleetEvents, StartWorker, Submit
from tests.workers.helpers import calls, example, set_faults

pytestmark = pytest.mark.integration

JobIds = Callable[[str], str]
FAST_POLLS = '{"generation": {"first_delay": 0.1, "growth": 1.0, "cap": 0.2, "deadline": 60}}'
ROUTES = {
    "text_to_image": "/v1/text-to-image/",
    "text_to_vector": "/v1/text-to-vector/",
    "reimagine": "/v1/reimagine/",
    "restyle_portrait": "/restyle_portrait",
    "fibo_generate_image": "/v2/image/generate/",
    "fibo_structured_prompt": "/v2/structured_prompt/generate/",
}


def _lose_answers(sim: SimServer, *, rate: float = 1.0, **fault: object) -> None:
    errors = [
        {"pattern": f"*{fragment}*", "methods": ["POST"], "rate": rate, "after_effect": True}
        | fault
        for fragment in ROUTES.values()
    ]
    set_faults(sim, seed=11, errors=errors)


def _generation_posts(sim: SimServer, op: str) -> list[dict[str, object]]:
    return [call for call in calls(sim, ROUTES[op]) if call["method"] == "POST"]


async def _start(start_worker: StartWorker, sim: SimServer, **env: str) -> None:
    worker = start_worker(
        "generation",
        api_base_url=sim.base_url,
        api_token=sim.token,
        WORKER_RETRY_DELAYS="[0.3, 0.3]",
        WORKER_POLL_POLICIES=FAST_POLLS,
        **env,
    )
    await worker.wait_ready()


@pytest.mark.parametrize(
    ("fault", "env"),
    [
        pytest.param({"status": 500}, {}, id="500-after-effect"),
        pytest.param({"status": 502}, {}, id="502-after-effect"),
        pytest.param(
            {"status": 504, "hang_seconds": 1.5},
            {"BRIA_API_TIMEOUT_SECONDS": "0.5"},
            id="read-timeout-after-effect",
        ),
    ],
)
async def test_every_generation_op_is_sent_once_when_its_answer_is_lost(
    fault: dict[str, object],
    env: dict[str, str],
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await _start(start_worker, sim, **env)
    _lose_answers(sim, **fault)
    jobs = {op: job_ids(op) for op in ROUTES}
    for op, job_id in jobs.items():
        await submit("generation", example("generation", op, job_id))

    await generation_events.wait_terminal(jobs.values(), within=90)
    # The simulator logs a call once it has answered, late answers included.
    await asyncio.sleep(float(fault.get("hang_seconds", 0.0)) + 0.5)  # type: ignore[arg-type]

    for op, job_id in jobs.items():
        (event,) = generation_events.terminal(job_id)
        assert event["type"] == "generation.failed", (op, event)
        assert event["error"]["code"] == "api_outcome_unknown", (op, event)
        assert event["error"]["retriable"] is True
        assert len(_generation_posts(sim, op)) == 1, op
    assert not generation_events.tail.on(generation_events.topics.retry)
    assert not generation_events.dead_letters()


async def test_opting_in_completes_the_jobs_and_pays_one_generation_per_lost_answer(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    await _start(start_worker, sim, BRIA_API_REPEAT_UNCERTAIN_GENERATIONS="true")
    _lose_answers(sim, rate=0.4, status=500)
    jobs = [job_ids(f"job{n}") for n in range(12)]
    for job_id in jobs:
        await submit(
            "generation", example("generation", "text_to_image", job_id, prompt=f"cat {job_id}")
        )

    await generation_events.wait_terminal(jobs, within=90)

    for job_id in jobs:
        (event,) = generation_events.terminal(job_id)
        assert event["type"] == "generation.completed", event.get("error")
    posts = _generation_posts(sim, "text_to_image")
    lost = [call for call in posts if call["status"] == 500]
    assert lost, "no answer was lost, so the test proves nothing"
    async with httpx.AsyncClient() as client:
        counters: dict[str, Any] = (await client.get(f"{sim.base_url}/_sim/counters")).json()
    extra = sum(d["count"] - 1 for d in counters["duplicates"]["generation_requests"])
    assert extra == len(lost)
    assert len(posts) == len(jobs) + len(lost)
