"""The fleet as an operator meets it: replicas killed, added and removed, the broker
restarted, the API failing, pipelines across replicas, and the token kept secret.

Each scenario records its figures (see ``conftest.py``) and passes or fails on them. The
scenarios run in this file's order on one broker and simulator; the secrets scan comes last,
so it reads every log and record the others left. The hostile-input corpus is its own suite
(``tests/hostile/``), which ``make test-reliability`` runs too.
"""

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from bria_fleet.topics_admin import require_topics
from tests.reliability.conftest import SCALE, Fleet
from tests.reliability.fleet_harness import (
    EventLog,
    Figures,
    generation_request,
    outcome_figures,
    publish,
    repeated_calls,
    requests_per_job,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "contracts" / "examples"
FAST_POLLS = json.dumps(
    {
        kind: {"first_delay": 0.2, "growth": 1.0, "cap": 0.5, "deadline": 900}
        for kind in ("training", "training_stop", "captions", "generation")
    }
)
GENERATION_PATHS = "*text-to-image*"
EventLogFor = Callable[..., Awaitable[EventLog]]


@dataclass(frozen=True)
class Size:
    """How big each scenario is at one scale."""

    kill_jobs: int
    kills: int
    kill_interval: float
    long_latency: float
    long_jobs: int
    restart_jobs: int
    storm_seconds: float
    storm_rate: float
    trainings: int
    pipelines: int


SIZES = {
    "slice": Size(
        kill_jobs=180,
        kills=2,
        kill_interval=3.0,
        long_latency=5.0,
        long_jobs=24,
        restart_jobs=100,
        storm_seconds=2.0,
        storm_rate=10.0,
        trainings=2,
        pipelines=1,
    ),
    "full": Size(
        kill_jobs=1200,
        kills=6,
        kill_interval=4.0,
        long_latency=20.0,
        long_jobs=48,
        restart_jobs=600,
        storm_seconds=10.0,
        storm_rate=20.0,
        trainings=4,
        pipelines=3,
    ),
}
SIZE = SIZES[SCALE]
TIMEOUT = 1200 if SCALE == "full" else 300

pytestmark = [pytest.mark.integration, pytest.mark.reliability, pytest.mark.timeout(TIMEOUT)]


def run_ids(prefix: str, count: int) -> list[str]:
    run = uuid.uuid4().hex[:6]
    return [f"rel-{prefix}-{run}-{n}" for n in range(count)]


def in_flight_at_a_kill(fleet: Fleet, log: EventLog, job_id: str, kills: list[float]) -> bool:
    """Whether ``job_id``'s first API call had started, and its outcome was not yet
    published, when some replica was killed."""
    calls = sorted(
        (c for c in fleet.sim.generation_calls([generation_request(job_id)["prompt"]])),
        key=lambda c: c.started,
    )
    if not calls:
        return False
    published = log.first_terminal_at(job_id) or float("inf")
    return any(calls[0].started <= kill <= published for kill in kills)


async def test_kills_during_calls(fresh: Fleet, event_log: EventLogFor, figures: Figures) -> None:
    """≥1,000 jobs (full size) over 3 replicas with repeated SIGKILLs and restarts: nothing
    lost, no job with two different outcomes, and a call repeated only for a job in flight
    at a kill."""
    fleet, concurrency = fresh, 8
    fleet.sim.set_faults(
        latency={"fixed_seconds": 0.5, "jitter_seconds": 0.6, "pattern": GENERATION_PATHS}
    )
    log = await event_log("generation")
    replicas = fleet.replicas("generation", WORKER_CONCURRENCY=str(concurrency))
    await replicas.add(3)
    jobs = run_ids("kill", SIZE.kill_jobs)
    counter_before = fleet.sim.repeated_generation_bodies()

    began = time.time()
    await publish(fleet.broker.settings, "generation", map(generation_request, jobs))
    for _ in range(SIZE.kills):
        await asyncio.sleep(SIZE.kill_interval)
        if all(log.terminal_records(j) for j in jobs):
            break  # a kill with nothing in flight proves nothing
        replicas.kill(0)
        await replicas.add(1)
    last = await log.wait_terminal(jobs, within=TIMEOUT - 120)

    await fleet.sim.catch_up()
    repeated = repeated_calls(fleet.sim, jobs)
    unexplained = [j for j in repeated if not in_flight_at_a_kill(fleet, log, j, replicas.kills)]
    # A job whose call was cut short by a kill may end as outcome unknown (the POST policy
    # for ambiguous generations) instead of being paid twice; no other job may fail.
    failed = {
        job: event["error"]["code"]
        for job in jobs
        for event in log.terminal(job).values()
        if event["type"] == "generation.failed"
    }
    failed_unexplained = [
        job
        for job, code in failed.items()
        if code != "api_outcome_unknown" or not in_flight_at_a_kill(fleet, log, job, replicas.kills)
    ]
    figures.add(
        replicas=3,
        concurrency=concurrency,
        kills=len(replicas.kills),
        **outcome_figures(log, jobs),
        repeated_api_calls=sum(repeated.values()),
        jobs_with_repeated_calls=len(repeated),
        repeated_calls_not_in_flight_at_a_kill=len(unexplained),
        failed_as_outcome_unknown_at_a_kill=len(failed) - len(failed_unexplained),
        failed_otherwise=len(failed_unexplained),
        simulator_duplicate_bodies=fleet.sim.repeated_generation_bodies() - counter_before,
        requests_per_job=round(requests_per_job(fleet.sim, jobs), 3),
        drain_seconds=round(last - began, 1),
    )
    outcome = figures.values
    assert outcome["lost"] == 0
    assert outcome["jobs_with_two_different_terminal_events"] == 0
    assert not failed_unexplained, {job: failed[job] for job in failed_unexplained[:5]}
    assert not unexplained, f"calls repeated for jobs not in flight at a kill: {unexplained[:5]}"
    in_flight_bound = len(replicas.kills) * 2 * concurrency
    assert len(repeated) + len(failed) <= in_flight_bound


async def test_scale_up_and_graceful_leave_during_long_calls(
    fresh: Fleet, event_log: EventLogFor, figures: Figures
) -> None:
    """A replica joins, then one leaves (SIGTERM), while every call takes ``long_latency``
    seconds: the partitions move without one API call repeated."""
    fleet, concurrency, latency = fresh, 4, SIZE.long_latency
    fleet.sim.set_faults(latency={"fixed_seconds": latency, "pattern": GENERATION_PATHS})
    log = await event_log("generation")
    replicas = fleet.replicas(
        "generation",
        WORKER_CONCURRENCY=str(concurrency),
        WORKER_GRACEFUL_TIMEOUT=str(latency + 30),
        BRIA_API_TIMEOUT_SECONDS=str(latency + 30),
    )
    await replicas.add(2)
    jobs = run_ids("scale", SIZE.long_jobs)
    counter_before = fleet.sim.repeated_generation_bodies()

    began = time.time()
    await publish(fleet.broker.settings, "generation", map(generation_request, jobs))
    await asyncio.sleep(latency / 2)  # every replica is mid-call
    joined_at = time.monotonic()
    await replicas.add(1)
    join_seconds = time.monotonic() - joined_at
    await asyncio.sleep(latency / 2 + 2)  # the newcomer is mid-call too
    leaving = replicas.leave(0)
    left_at = time.monotonic()
    exit_code = await asyncio.to_thread(leaving.wait_exit, latency + 60)
    leave_seconds = time.monotonic() - left_at
    last = await log.wait_terminal(jobs, within=TIMEOUT - 4 * latency - 60)

    await fleet.sim.catch_up()
    repeated = repeated_calls(fleet.sim, jobs)
    figures.add(
        latency_seconds=latency,
        concurrency=concurrency,
        **outcome_figures(log, jobs),
        repeated_api_calls=sum(repeated.values()),
        simulator_duplicate_bodies=fleet.sim.repeated_generation_bodies() - counter_before,
        requests_per_job=round(requests_per_job(fleet.sim, jobs), 3),
        join_ready_seconds=round(join_seconds, 1),
        leave_drain_seconds=round(leave_seconds, 1),
        leave_exit_code=exit_code,
        drain_seconds=round(last - began, 1),
    )
    outcome = figures.values
    assert outcome["lost"] == 0
    assert outcome["jobs_with_two_different_terminal_events"] == 0
    assert exit_code == 0
    assert outcome["repeated_api_calls"] == 0, f"repeated: {sorted(repeated)[:5]}"


async def test_broker_restart_with_jobs_in_flight(
    fresh: Fleet, event_log: EventLogFor, figures: Figures
) -> None:
    """The broker stops for a few seconds while jobs are in flight, and comes back on the
    same port and data: every job still ends, once."""
    fleet, concurrency = fresh, 8
    fleet.sim.set_faults(latency={"fixed_seconds": 0.5, "pattern": GENERATION_PATHS})
    log = await event_log("generation")
    replicas = fleet.replicas("generation", WORKER_CONCURRENCY=str(concurrency))
    await replicas.add(3)
    jobs = run_ids("restart", SIZE.restart_jobs)

    began = time.time()
    await publish(fleet.broker.settings, "generation", map(generation_request, jobs))
    await asyncio.sleep(2.0)
    ended_before_stop = sum(1 for j in jobs if log.terminal_records(j))
    await asyncio.to_thread(fleet.broker.stop)
    await asyncio.sleep(3.0)
    await asyncio.to_thread(fleet.broker.start)
    back = time.time()
    last = await log.wait_terminal(jobs, within=TIMEOUT - 60)

    await fleet.sim.catch_up()
    repeated = repeated_calls(fleet.sim, jobs)
    exited = [w.process.returncode for w in replicas.live if w.process and w.process.poll()]
    figures.add(
        **outcome_figures(log, jobs),
        ended_before_the_stop=ended_before_stop,
        repeated_api_calls=sum(repeated.values()),
        requests_per_job=round(requests_per_job(fleet.sim, jobs), 3),
        replicas_that_exited=len(exited),
        producers_renewed=sum(
            path.read_text(errors="replace").count("failed for good") for path in replicas.logs()
        ),
        drain_after_broker_back_seconds=round(max(0.0, last - back), 1),
        total_seconds=round(last - began, 1),
    )
    outcome = figures.values
    assert 0 < ended_before_stop < len(jobs), "the restart did not fall among jobs in flight"
    assert outcome["lost"] == 0
    assert outcome["jobs_with_two_different_terminal_events"] == 0
    assert not exited, f"replicas exited with {exited}"


async def test_api_storm(fresh: Fleet, event_log: EventLogFor, figures: Figures) -> None:
    """A steady stream of jobs through 503 bursts, 429 bursts and an outage answering 503
    with Retry-After: nearly every job completes, and the outage sees probes, not a flood."""
    fleet, concurrency, phase = fresh, 8, SIZE.storm_seconds
    outage = 2.5 * phase
    log = await event_log("generation")
    replicas = fleet.replicas(
        "generation", WORKER_CONCURRENCY=str(concurrency), WORKER_RETRY_DELAYS="[2, 5, 10, 20]"
    )
    await replicas.add(3)
    calm = {"latency": {"fixed_seconds": 0.1, "pattern": GENERATION_PATHS}}
    fleet.sim.set_faults(**calm)
    duration = 5 * phase + outage
    count = int(SIZE.storm_rate * duration)
    jobs = run_ids("storm", count)

    began = time.time()
    streaming = asyncio.create_task(stream(fleet, jobs, SIZE.storm_rate))
    await asyncio.sleep(phase)
    fleet.sim.set_faults(**calm, errors=[{"pattern": GENERATION_PATHS, "rate": 0.5, "status": 503}])
    await asyncio.sleep(phase)
    fleet.sim.set_faults(**calm)
    await asyncio.sleep(phase)
    limits = [{"pattern": GENERATION_PATHS, "allowed": 10, "burst": 10, "retry_after_seconds": 1}]
    fleet.sim.set_faults(**calm, rate_limits=limits)
    await asyncio.sleep(phase)
    fleet.sim.set_faults(**calm)
    await asyncio.sleep(phase)
    outage_began = time.time()
    fleet.sim.set_faults(**calm, outage_seconds=outage)
    await asyncio.sleep(outage + 0.5)
    fleet.sim.set_faults(**calm)
    await streaming
    last = await log.wait_terminal(jobs, within=TIMEOUT - duration - 30)

    outcome = outcome_figures(log, jobs)
    await fleet.sim.stop_collecting()
    calls = fleet.sim.calls
    during = [c for c in calls if c.fault == "outage" and c.ended >= outage_began]
    statuses = {
        "503_burst": sum(1 for c in calls if c.fault == "error" and c.ended >= began),
        "429": sum(1 for c in calls if c.status == 429 and c.ended >= began),
    }
    figures.add(
        **outcome,
        completed_share=round(outcome["completed"] / len(jobs), 4),
        requests_per_job=round(requests_per_job(fleet.sim, jobs), 3),
        injected_answers=statuses,
        outage_seconds=outage,
        requests_during_outage=len(during),
        outage_requests_per_second=round(len(during) / outage, 2),
        drain_after_outage_seconds=round(max(0.0, last - outage_began - outage), 1),
    )
    assert outcome["lost"] == 0
    assert outcome["jobs_with_two_different_terminal_events"] == 0
    assert outcome["completed"] >= 0.99 * len(jobs)
    # Retry-After holds every request of a process: a few probes per replica, not a flood.
    assert len(during) / outage <= len(replicas.live)


async def stream(fleet: Fleet, jobs: list[str], rate: float) -> None:
    """Publish ``jobs`` at ``rate`` per second, in batches of a tenth of a second."""
    batch = max(1, int(rate / 10))
    for start in range(0, len(jobs), batch):
        chunk = jobs[start : start + batch]
        await publish(fleet.broker.settings, "generation", map(generation_request, chunk))
        await asyncio.sleep(batch / rate)


def example(domain: str, op: str, job_id: str, **changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = json.loads((EXAMPLES / domain / f"{op}.json").read_text())
    request.update(job_id=job_id, **changes)
    return request


async def wait_for(
    condition: Callable[[], bool], within: float, what: str | Callable[[], str]
) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            described = what if isinstance(what, str) else what()
            pytest.fail(f"timed out after {within:g} s waiting for {described}")
        await asyncio.sleep(0.3)


async def test_stop_reasons_across_training_replicas(
    fresh: Fleet, event_log: EventLogFor, figures: Figures
) -> None:
    """Stops handled by whichever of 2 replicas, half of them with the training's replica
    killed first: every training.stopped says ``requested``."""
    fleet = fresh
    fleet.sim.set_timing(training_seconds=600, stopping_seconds=0.5)
    log = await event_log("training")
    replicas = fleet.replicas("training", WORKER_POLL_POLICIES=FAST_POLLS)
    await replicas.add(2)
    trains = run_ids("train", SIZE.trainings)
    run = uuid.uuid4().hex[:6]
    requests = [
        example(
            "training",
            "train_model",
            job,
            model={"name": f"rel-{run}-{n}", "training_version": "light"},
        )
        for n, job in enumerate(trains)
    ]
    await publish(fleet.broker.settings, "training", requests)

    def model_of(job: str) -> str | None:
        started = [s for s in log.events(job) if s.value["type"] == "training.started"]
        return str(started[0].value["data"]["model_id"]) if started else None

    await wait_for(
        lambda: all(model_of(j) or log.terminal(j) for j in trains),
        120,
        "training.started",
    )
    ended_early = {j: list(log.terminal(j).values()) for j in trains if log.terminal(j)}
    assert not ended_early, f"trainings ended before the stop: {ended_early}"
    models = {job: str(model_of(job)) for job in trains}
    half = len(trains) // 2
    stops = {job: f"{job}-stop" for job in trains}
    plain = [
        example("training", "stop_training", stops[j], model_id=models[j]) for j in trains[:half]
    ]
    await publish(fleet.broker.settings, "training", plain)
    await log.wait_terminal([*trains[:half], *(stops[j] for j in trains[:half])], within=120)
    replicas.kill(0)
    after_kill = [
        example("training", "stop_training", stops[j], model_id=models[j]) for j in trains[half:]
    ]
    await publish(fleet.broker.settings, "training", after_kill)
    await replicas.add(1)
    every = [*trains, *stops.values()]
    await log.wait_terminal(every, within=240)

    reasons: dict[str, int] = {}
    for job in every:
        for event in log.terminal(job).values():
            key = f"{event['type']}:{event.get('data', {}).get('reason')}"
            reasons[key] = reasons.get(key, 0) + 1
    figures.add(
        trainings=len(trains),
        stopped_with_a_kill_first=len(trains) - half,
        **outcome_figures(log, every),
        terminal_reasons=reasons,
    )
    assert figures.values["lost"] == 0
    assert figures.values["jobs_with_two_different_terminal_events"] == 0
    assert reasons == {"training.stopped:requested": len(every)}


async def test_pipelines_across_replicas_with_a_kill(
    fresh: Fleet, event_log: EventLogFor, figures: Figures
) -> None:
    """Ingest → caption → training → generation pipelines over replicas of every domain,
    a training and a generation replica killed mid-way: every step ends exactly once."""
    fleet = fresh
    training_seconds = 8 if SCALE == "full" else 4
    fleet.sim.set_timing(
        training_seconds=training_seconds, caption_seconds=1, generation_seconds=0.5
    )
    log = await event_log("ingest", "caption", "training", "generation")
    counts = {"ingest": 1, "caption": 1, "training": 2, "generation": 2}
    if SCALE == "full":
        counts = dict.fromkeys(counts, 2)
    sets = {d: fleet.replicas(d, WORKER_POLL_POLICIES=FAST_POLLS) for d in counts}  # type: ignore[arg-type]
    for domain, count in counts.items():
        await sets[domain].add(count)
    heads = run_ids("pipeline", SIZE.pipelines)
    requests = [pipeline(job) for job in heads]
    await publish(fleet.broker.settings, "ingest", requests)

    trains = [f"{job}/caption/train" for job in heads]
    started = lambda: all(  # noqa: E731
        any(s.value["type"] == "training.started" for s in log.events(t)) for t in trains
    )
    await wait_for(started, 180, "training.started of every pipeline")
    sets["training"].kill(0)
    sets["generation"].kill(0)
    await sets["training"].add(1)
    await sets["generation"].add(1)
    steps = [
        step
        for job in heads
        for step in (job, f"{job}/caption", f"{job}/caption/train", f"{job}/caption/train/generate")
    ]
    await log.wait_terminal(steps, within=TIMEOUT - 240)

    outcome = outcome_figures(log, steps)
    figures.add(pipelines=len(heads), replicas=counts, kills=2, **outcome)
    assert outcome["lost"] == 0
    assert outcome["jobs_with_two_different_terminal_events"] == 0
    assert outcome["completed"] == len(steps), outcome["terminal_types"]


def pipeline(job_id: str) -> dict[str, Any]:
    """The contract's pipeline example with names of this job's own."""
    request: dict[str, Any] = json.loads((EXAMPLES / "pipeline.json").read_text())
    request["job_id"] = job_id
    request["dataset"]["name"] = f"ds-{job_id}"
    train = request["then"][0]["request"]["then"][0]["request"]
    train["model"]["name"] = f"model-{job_id}"
    return request


# The hostile-message corpus is its own suite (tests/hostile/test_hostile_corpus.py, on the
# test session's broker); `make test-reliability` runs it after these scenarios. Moving it
# onto this fleet (its replicas, and before the secrets scan) is the next step.


async def test_secrets_appear_in_no_log_record_or_metric(
    fresh: Fleet, event_log: EventLogFor, figures: Figures
) -> None:
    """The distinctive token the whole suite ran with is in no worker log, no record on
    any topic, and no worker's /metrics."""
    fleet = fresh
    token = fleet.token.encode()
    sets = [fleet.replicas(domain) for domain in ("ingest", "caption", "training", "generation")]
    for replicas in sets:
        await replicas.add(1)
    log = await event_log("generation")
    jobs = run_ids("secret", 5)
    await publish(fleet.broker.settings, "generation", map(generation_request, jobs))
    await log.wait_terminal(jobs, within=60)

    metrics_hits = 0
    async with httpx.AsyncClient(timeout=10.0) as client:
        for replicas in sets:
            for worker in replicas.live:
                text = (await client.get(f"{worker.url}/metrics")).content
                metrics_hits += text.count(token)
    log_files = fleet.worker_logs()
    log_bytes = sum(path.stat().st_size for path in log_files)
    log_hits = sum(path.read_bytes().count(token) for path in log_files)
    records, record_hits = await scan_every_topic(fleet, token)

    figures.add(
        worker_logs=len(log_files),
        log_bytes=log_bytes,
        records_scanned=records,
        metrics_endpoints=sum(len(r.live) for r in sets),
        token_hits_in_logs=log_hits,
        token_hits_in_records=record_hits,
        token_hits_in_metrics=metrics_hits,
    )
    assert records > 0, "no record was scanned"
    assert log_bytes > 0, "no log was scanned"
    assert (log_hits, record_hits, metrics_hits) == (0, 0, 0)


async def scan_every_topic(fleet: Fleet, token: bytes) -> tuple[int, int]:
    """Every record of every topic on the broker: how many, and how many hold ``token``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=fleet.broker.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        topics = sorted(await consumer.topics())
        described = await require_topics(fleet.broker.settings, topics)
        partitions = [TopicPartition(t, p) for t, ps in described.items() for p in ps]
        ends = await consumer.end_offsets(partitions)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        records = hits = 0
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batches = await consumer.getmany(timeout_ms=1000)
            for messages in batches.values():
                for message in messages:
                    records += 1
                    parts = [message.key or b"", message.value or b""]
                    parts += [name.encode() + value for name, value in message.headers]
                    hits += sum(part.count(token) for part in parts)
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
        return records, hits
    finally:
        await consumer.stop()
