"""A Retry-After from the API holds a job back through the retry topic too."""

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bria_fleet.sim import SimServer
from tests.fixtures.fleet import FleetEvents, StartWorker, Submit
from tests.workers.helpers import example, set_faults

pytestmark = pytest.mark.integration

OUTAGE_SECONDS = 4.0


async def test_a_job_sent_to_the_retry_topic_is_due_no_sooner_than_the_apis_retry_after(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: Callable[[str], str],
) -> None:
    worker = start_worker(
        "generation",
        api_base_url=sim.base_url,
        api_token=sim.token,
        BRIA_API_RETRY_ATTEMPTS="1",
        WORKER_RETRY_DELAYS="[0.2, 0.2, 0.2]",
    )
    await worker.wait_ready()
    set_faults(sim, outage_seconds=OUTAGE_SECONDS)
    job_id = job_ids("held")
    submitted = datetime.now(UTC)
    await submit("generation", example("generation", "text_to_image", job_id))

    await generation_events.wait_terminal([job_id], within=60)

    (event,) = generation_events.terminal(job_id)
    assert event["type"] == "generation.completed"
    # One pass through .retry, due after the outage's Retry-After (about 4 s) rather than
    # the configured 0.2 s: three such passes would have dead-lettered the job meanwhile.
    (retried,) = generation_events.tail.on(generation_events.topics.retry)
    due = datetime.fromisoformat(retried.headers["bria_due_at"])
    assert (due - submitted).total_seconds() >= OUTAGE_SECONDS - 1.5
