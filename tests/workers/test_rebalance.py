"""A replica joining or leaving the group repeats no API call (README, "Scaling").

The simulator takes longer over each generation than aiokafka's and
faststream-concurrent-aiokafka's defaults give a rebalance (10 s): a replica that gave its
partitions up when the group rebalanced, instead of finishing its jobs first, would leave
them to the new owner, which would send them again (or, when it got them back itself,
publish their events twice).
"""

import asyncio
import itertools
import signal
from collections import Counter
from collections.abc import Callable

import pytest
from aiokafka.partitioner import DefaultPartitioner

from bria_fleet.settings import KafkaSettings
from bria_fleet.sim import SimServer
from bria_fleet.topics_admin import require_topics
from bria_fleet_contracts import topics_for
from tests.fixtures.fleet import FleetEvents, StartWorker, Submit, WorkerProcess
from tests.workers.helpers import example, prompt_counts, set_faults

pytestmark = pytest.mark.integration

JobIds = Callable[[str], str]
CALL_SECONDS = 16.0
ROUTE = "/v1/text-to-image/"
REQUESTS = topics_for("generation").requests


def _start(
    start_worker: StartWorker, sim: SimServer, graceful_timeout: float = CALL_SECONDS + 10
) -> WorkerProcess:
    return start_worker(
        "generation",
        api_base_url=sim.base_url,
        api_token=sim.token,
        WORKER_GRACEFUL_TIMEOUT=f"{graceful_timeout:g}",
    )


async def _submit_batch(submit: Submit, job_ids: JobIds, name: str, count: int) -> list[str]:
    jobs = [job_ids(f"{name}-{n}") for n in range(count)]
    await _submit_all(submit, jobs)
    return jobs


async def _submit_all(submit: Submit, jobs: list[str]) -> None:
    for job_id in jobs:
        request = example("generation", "text_to_image", job_id, prompt=f"prompt {job_id}")
        await submit("generation", request)


def _assert_each_sent_once_and_ended_once(
    sim: SimServer, events: FleetEvents, jobs: list[str]
) -> None:
    sent = prompt_counts(sim, ROUTE)
    repeated = {job: sent[f"prompt {job}"] for job in jobs if sent[f"prompt {job}"] != 1}
    assert not repeated, f"generations not sent exactly once: {repeated}"
    for job_id in jobs:
        (event,) = events.terminal(job_id)
        assert event["type"] == "generation.completed", event.get("error")
        assert len(events.events(job_id)) == 1, "a finished job's events were published again"


async def test_scale_up_and_a_graceful_leave_during_long_calls_repeat_nothing(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    set_faults(sim, latency={"pattern": f"*{ROUTE}*", "fixed_seconds": CALL_SECONDS})
    first = _start(start_worker, sim)
    await first.wait_ready()

    joining = await _submit_batch(submit, job_ids, "join", 12)
    second = _start(start_worker, sim)  # joins while the first is calling the API for each
    await second.wait_ready()
    await generation_events.wait_terminal(joining, within=120)

    leaving = await _submit_batch(submit, job_ids, "leave", 12)
    await asyncio.sleep(2.0)
    first.signal(signal.SIGTERM)  # the second replica takes its partitions over
    await generation_events.wait_terminal(leaving, within=120)
    assert await asyncio.to_thread(first.wait_exit) == 0
    # The simulator logs a call once it has answered it: stopping the second replica (it
    # finishes its calls first) lets every call sent by then be counted.
    second.signal(signal.SIGTERM)
    assert await asyncio.to_thread(second.wait_exit) == 0
    _assert_each_sent_once_and_ended_once(sim, generation_events, joining + leaving)


async def test_the_paid_calls_of_a_killed_replica_are_not_sent_again_by_the_next_owner(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    job_ids: JobIds,
) -> None:
    set_faults(sim, latency={"pattern": f"*{ROUTE}*", "fixed_seconds": 8.0})
    doomed = _start(start_worker, sim)
    await doomed.wait_ready()
    jobs = await _submit_batch(submit, job_ids, "killed", 6)
    await asyncio.sleep(2.0)  # every job is now waiting for its generation
    doomed.signal(signal.SIGKILL)
    await asyncio.to_thread(doomed.wait_exit)

    successor = _start(start_worker, sim)
    await successor.wait_ready()
    await generation_events.wait_terminal(jobs, within=120)
    successor.signal(signal.SIGTERM)
    assert await asyncio.to_thread(successor.wait_exit) == 0

    sent = prompt_counts(sim, ROUTE)
    for job_id in jobs:
        assert sent[f"prompt {job_id}"] <= 1, "the next owner sent a paid generation again"
        (event,) = generation_events.terminal(job_id)
        assert event["type"] == "generation.failed"
        assert event["error"]["code"] == "api_outcome_unknown"
        assert "earlier attempt" in event["error"]["message"]


async def test_a_call_outlasting_the_grace_of_a_rebalance_ends_its_job_once(
    sim: SimServer,
    start_worker: StartWorker,
    submit: Submit,
    generation_events: FleetEvents,
    fleet_topics: KafkaSettings,
    job_ids: JobIds,
) -> None:
    """Calls longer than WORKER_GRACEFUL_TIMEOUT when a replica joins: jobs whose partition
    moves end with its new owner (which finds the calling marker), the others with their
    first replica; none ends twice, none is paid twice."""
    # Longer than the grace, the committer's flush and the wait for outcome writes together.
    set_faults(sim, latency={"pattern": f"*{ROUTE}*", "fixed_seconds": 25.0})
    first = _start(start_worker, sim, graceful_timeout=2)
    await first.wait_ready()
    partitions = (await require_topics(fleet_topics, [REQUESTS]))[REQUESTS]
    jobs = _keys_on_every_partition(job_ids, "outlasting", sorted(partitions), per_partition=2)
    await _submit_all(submit, jobs)
    await asyncio.sleep(1.0)  # every job is now waiting for its generation
    second = _start(start_worker, sim, graceful_timeout=2)
    await second.wait_ready()
    await generation_events.wait_terminal(jobs, within=120)
    await asyncio.sleep(5.0)  # the last calls ended with the last terminal event; any more?
    for replica in (first, second):
        replica.signal(signal.SIGTERM)
        assert await asyncio.to_thread(replica.wait_exit) == 0

    sent = prompt_counts(sim, ROUTE)
    ends = Counter()
    for job_id in jobs:
        assert sent[f"prompt {job_id}"] <= 1, "a paid generation was sent twice"
        terminal = generation_events.terminal(job_id)
        assert len(terminal) == 1, f"{job_id} ended twice: {terminal}"
        ends[terminal[0]["type"]] += 1
    # Some partitions stayed with the first replica, some moved (round robin over two).
    assert ends["generation.completed"] > 0, ends
    assert ends["generation.failed"] > 0, ends


def _keys_on_every_partition(
    job_ids: JobIds, name: str, partitions: list[int], per_partition: int
) -> list[str]:
    """Job ids that Kafka's default partitioner puts ``per_partition`` to each partition."""
    chosen: dict[int, list[str]] = {p: [] for p in partitions}
    for n in itertools.count():
        job_id = job_ids(f"{name}-{n}")
        partition = DefaultPartitioner()(job_id.encode(), partitions, partitions)
        if len(chosen[partition]) < per_partition:
            chosen[partition].append(job_id)
        if all(len(ids) == per_partition for ids in chosen.values()):
            return [job_id for ids in chosen.values() for job_id in ids]
    raise AssertionError("unreachable")
