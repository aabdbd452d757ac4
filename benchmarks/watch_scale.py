"""Thousands of watched v2 generations: what watching costs one replica, and three.

Starts its own Kafka broker and simulator process. For each size (``--sizes``), publishes
that many FIBO image jobs (each an asynchronous v2 request, followed by the watcher) whose
generation takes ``--base-seconds`` plus up to ``--spread-seconds`` more, to one generation
replica, and reports while they are watched:

- the replica's CPU (cores) and peak RSS;
- status requests per second, against what the poll policy implies for those durations;
- detection delay (the API's ``updated_at`` to our ``generation.completed``) p50/p95/p99,
  and how late detection was against the poll interval in force when the operation ended.

CPU is given for the whole run and for the watching phase alone (from the moment every
job is watched to the last completion), since starting 10,000 jobs is request handling,
not watching. ``--profile DIR`` records each replica and the simulator with py-spy (``pip install -e
'.[bench]'``) into ``DIR`` as collapsed stacks.

Then, with ``--adopt`` watches of an hour in flight, stops the replica and times a new one
from its start until it watches all of them (and then deletes those watches, so the next
runs do not poll them too). ``--replicas 3`` runs the same with three. ``--polls`` sets each
replica's ``WORKER_MAX_CONCURRENT_POLLS`` (64); ``--status-latency`` makes every status request
take that long at the simulator (as a real API's would), to see what the poll cap allows.
Prints one line per figure and writes ``.cache/bench/watch_scale.json``. Usage:

    python benchmarks/watch_scale.py [--sizes 1000 5000 10000] [--replicas 1 3]
"""

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from generation_throughput import (
    HELPERS,
    PROFILERS,
    SIM_TOKEN,
    TOPICS,
    broker_and_simulator,
    cpu_seconds,
    free_port,
    helpers_cpu,
    peak_rss_mib,
    profile,
    wait_until_consuming,
)

from bria_fleet.runtime.worker_settings import PollPolicy
from bria_fleet.settings import KafkaSettings
from bria_fleet.submitting import EventStream
from bria_fleet.topics_admin import create_fleet_topics, require_topics
from bria_fleet_contracts import is_terminal

RESULT = Path(".cache/bench/watch_scale.json")
POLICY = PollPolicy(first_delay=5.0, growth=1.5, cap=30.0, jitter=0.2, deadline=7200.0)
Replica = tuple[subprocess.Popen[bytes], int]
OPERATIONS = TOPICS.operations
WATCHES = 'bria_fleet_watches{kind="generation"}'
STARTED = 'bria_fleet_jobs_total{domain="generation",outcome="watching"}'


class PidOnly:
    """A process started elsewhere, as far as ``profile`` needs it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid


def start_replica(bootstrap: str, sim_url: str, log: Path, polls: int = 64) -> Replica:
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "BRIA_API_BASE_URL": sim_url,
        "BRIA_API_TOKEN": SIM_TOKEN,
        "HTTP_PORT": str(port),
        "WORKER_CONCURRENCY": "64",
        "WORKER_MAX_CONCURRENT_POLLS": str(polls),
        "WORKER_POLL_POLICIES": json.dumps({"generation": POLICY.model_dump()}),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bria_fleet", "worker", "generation"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    return process, port


def stop(replicas: list[Replica]) -> None:
    for process, _ in replicas:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process, _ in replicas:
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise SystemExit(f"replica {process.pid} did not exit within 60 s of SIGTERM") from None


async def metric(port: int, name: str) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name) and not line.startswith("#")
    )


async def publish_jobs(bootstrap: str, job_ids: list[str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    try:
        sends = []
        for job_id in job_ids:
            body = {
                "job_id": job_id,
                "op": "fibo_generate_image",
                "model_id": "302",
                "prompt": f"a fox {job_id}",
            }
            value = json.dumps(body).encode()
            sends.append(await producer.send(TOPICS.requests, value, key=job_id.encode()))
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


def policy_schedule(duration: float, draws: random.Random) -> tuple[int, float]:
    """Status requests the policy makes for an operation of ``duration`` (the last one
    sees it finished), and the interval between the last two: the interval in force."""
    elapsed, polls, interval = 0.0, 0, 0.0
    while elapsed < duration:
        interval = POLICY.delay(polls, draws.random())
        elapsed += interval
        polls += 1
    return polls, interval


def ideal_polls(durations: list[float], rounds: int = 8) -> tuple[float, list[float]]:
    """Expected status requests for these durations (averaged over ``rounds`` jitter draws)
    and each operation's expected poll interval in force when it ended."""
    draws = random.Random(15)
    total = 0.0
    intervals = [0.0] * len(durations)
    for _ in range(rounds):
        for n, duration in enumerate(durations):
            polls, interval = policy_schedule(duration, draws)
            total += polls
            intervals[n] += interval / rounds
    return total / rounds, intervals


def _instant(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def polls_and_cpu(replicas: list[Replica]) -> tuple[float, float]:
    polls = sum([await metric(port, "bria_fleet_poll_requests_total") for _, port in replicas])
    return polls, sum(cpu_seconds(process.pid) for process, _ in replicas)


async def watch_run(
    bootstrap: str, sim_url: str, work: Path, size: int, replicas_count: int, args: Any
) -> dict[str, Any]:
    timing = {"generation_seconds": args.base_seconds, "generation_jitter_seconds": args.spread}
    latency = {"fixed_seconds": args.status_latency, "pattern": "/v2/status/*"}
    async with httpx.AsyncClient() as client:
        (await client.put(f"{sim_url}/_sim/timing", json=timing)).raise_for_status()
        (await client.put(f"{sim_url}/_sim/faults", json={"latency": latency})).raise_for_status()
    replicas = [
        start_replica(bootstrap, sim_url, work / f"w-{uuid.uuid4().hex[:6]}.log", args.polls)
        for _ in range(replicas_count)
    ]
    for n, (process, _) in enumerate(replicas):
        profile(process, args.profile, f"watch-{size}-{replicas_count}-{n}")
    try:
        for process, port in replicas:
            await wait_until_consuming(port, process)
        await asyncio.sleep(3.0)
        job_ids = [f"watch-{size}-{uuid.uuid4().hex[:6]}-{n}" for n in range(size)]
        settings = KafkaSettings(bootstrap_servers=bootstrap)
        finished: dict[str, dict[str, Any]] = {}
        async with EventStream(settings, ["generation"]) as events:
            polls_at_start, cpu_at_start = await polls_and_cpu(replicas)
            helpers_at_start = helpers_cpu()
            started = time.monotonic()
            await publish_jobs(bootstrap, job_ids)
            watching = asyncio.create_task(all_watched(replicas, size))
            pending = set(job_ids)
            async with asyncio.timeout(args.base_seconds + args.spread + 600):
                async for event in events:
                    if event["job_id"] in pending and is_terminal(event["type"]):
                        pending.discard(event["job_id"])
                        finished[event["job_id"]] = event
                        if not pending:
                            break
            ended = time.monotonic()
            polls_at_end, cpu_at_end = await polls_and_cpu(replicas)
            helpers_at_end = helpers_cpu()
            rss = max(peak_rss_mib(process.pid) for process, _ in replicas)
            poll_seconds = sum(
                [await metric(port, "bria_fleet_poll_duration_seconds_sum") for _, port in replicas]
            )
            watched_at, polls_watched, cpu_watched = await watching
    finally:
        stop(replicas)
    elapsed = ended - started
    delays, durations = [], []
    async with httpx.AsyncClient(headers={"api_token": SIM_TOKEN}) as client:
        (await client.put(f"{sim_url}/_sim/faults", json={})).raise_for_status()  # no latency
        for event in finished.values():
            status = (
                await client.get(f"{sim_url}/v2/status/{event['data']['api_request_id']}")
            ).json()
            done, created = _instant(status["updated_at"]), _instant(status["created_at"])
            delays.append((_instant(event["occurred_at"]) - done).total_seconds())
            durations.append((done - created).total_seconds())
    ideal, intervals = ideal_polls(durations)
    lateness = [delay - interval for delay, interval in zip(delays, intervals, strict=True)]
    polls = polls_at_end - polls_at_start
    result = {
        "watches": size,
        "replicas": replicas_count,
        "max_concurrent_polls": args.polls,
        "status_latency_seconds": args.status_latency,
        "seconds": elapsed,
        "cpu_cores": (cpu_at_end - cpu_at_start) / elapsed,
        "seconds_to_watch_all": watched_at - started,
        "cpu_cores_watching": (cpu_at_end - cpu_watched) / (ended - watched_at),
        "peak_rss_mib": rss,
        "status_requests_per_second": polls / elapsed,
        "ideal_requests_per_second": ideal / elapsed,
        "status_requests_ratio": polls / ideal,
        "status_requests_per_second_watching": (polls_at_end - polls_watched)
        / (ended - watched_at),
        "mean_status_request_seconds": poll_seconds / polls_at_end,
        "simulator_cpu_cores": (helpers_at_end["simulator"] - helpers_at_start["simulator"])
        / elapsed,
        "detection_delay_p50": statistics.median(delays),
        "detection_delay_p95": quantile(delays, 0.95),
        "detection_delay_p99": quantile(delays, 0.99),
        "interval_in_force_p95": quantile(intervals, 0.95),
        "lateness_p95": quantile(lateness, 0.95),
    }
    print(
        f"{size} watches, {replicas_count} replica(s), {args.polls} concurrent polls, status"
        f" latency {args.status_latency:g} s: CPU {result['cpu_cores']:.2f} cores over"
        f" the run ({elapsed:.0f} s; all watched after {result['seconds_to_watch_all']:.0f} s),"
        f" {result['cpu_cores_watching']:.2f} cores while watching; peak RSS {rss:.0f} MiB;"
        f" status requests {result['status_requests_per_second']:.1f}/s against"
        f" {result['ideal_requests_per_second']:.1f}/s the policy implies"
        f" (ratio {polls / ideal:.2f}); detection delay p50 {result['detection_delay_p50']:.2f} s,"
        f" p95 {result['detection_delay_p95']:.2f} s, p99 {result['detection_delay_p99']:.2f} s;"
        f" poll interval in force p95 {result['interval_in_force_p95']:.1f} s; delay beyond"
        f" the interval in force p95 {result['lateness_p95']:.2f} s; mean status request"
        f" {1000 * result['mean_status_request_seconds']:.0f} ms; simulator CPU"
        f" {result['simulator_cpu_cores']:.2f} cores"
    )
    return result


async def all_watched(replicas: list[Replica], size: int) -> tuple[float, float, float]:
    """Wait until every job has started its watch; then the time, polls and CPU so far."""
    while sum([await metric(port, STARTED) for _, port in replicas]) < size:  # noqa: ASYNC110
        await asyncio.sleep(0.5)
    now = time.monotonic()
    polls, cpu = await polls_and_cpu(replicas)
    return now, polls, cpu


async def adopt_run(
    bootstrap: str, sim_url: str, work: Path, size: int, replicas_count: int, args: Any
) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        answer = await client.put(f"{sim_url}/_sim/timing", json={"generation_seconds": 3600.0})
        answer.raise_for_status()
    first = start_replica(bootstrap, sim_url, work / "adopt-0.log")
    await wait_until_consuming(first[1], first[0])
    job_ids = [f"adopt-{uuid.uuid4().hex[:6]}-{n}" for n in range(size)]
    published = time.monotonic()
    await publish_jobs(bootstrap, job_ids)
    while await metric(first[1], WATCHES) < size:  # noqa: ASYNC110
        await asyncio.sleep(0.5)
    begun = (published + time.monotonic()) / 2  # when the watches began, on average
    stop([first])
    started = time.monotonic()
    replicas = [
        start_replica(bootstrap, sim_url, work / f"adopt-{n + 1}.log")
        for n in range(replicas_count)
    ]
    for n, (process, _) in enumerate(replicas):
        profile(process, args.profile, f"adopt-{size}-{replicas_count}-{n}")
    try:
        for process, port in replicas:
            await wait_until_consuming(port, process)
        while sum([await metric(port, WATCHES) for _, port in replicas]) < size:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        seconds = time.monotonic() - started
        # What the new owner does next: the first poll interval after adopting.
        polls_before, cpu_before = await polls_and_cpu(replicas)
        age = time.monotonic() + args.after_adopt / 2 - begun
        await asyncio.sleep(args.after_adopt)
        polls_after, cpu_after = await polls_and_cpu(replicas)
    finally:
        stop(replicas)
    await forget_watches(bootstrap, set(job_ids))
    rate = (polls_after - polls_before) / args.after_adopt
    # The policy's rate for watches of that age: one request per interval in force.
    implied = size / POLICY.delay(POLICY.polls_within(age), 0.5)
    cores = (cpu_after - cpu_before) / args.after_adopt
    print(
        f"adopting {size} watches with {replicas_count} new replica(s): {seconds:.1f} s from"
        f" start; the next {args.after_adopt:g} s: {rate:.0f} status requests/s (the policy"
        f" implies {implied:.0f}/s for watches {age:.0f} s old), CPU {cores:.2f} cores"
    )
    return {
        "watches": size,
        "replicas": replicas_count,
        "adopt_seconds": seconds,
        "requests_per_second_after": rate,
        "implied_requests_per_second": implied,
        "cpu_cores_after": cores,
    }


async def forget_watches(bootstrap: str, job_ids: set[str]) -> None:
    """Tombstone the watches of ``job_ids`` (hour-long operations), so that later runs do not
    find them still polled."""
    described = await require_topics(KafkaSettings(bootstrap_servers=bootstrap), [OPERATIONS])
    partitions = [TopicPartition(OPERATIONS, p) for p in described[OPERATIONS]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    live: dict[bytes, int] = {}
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for tp, messages in (await consumer.getmany(timeout_ms=500)).items():
                for message in messages:
                    if message.key is None:
                        continue
                    if message.value is None:
                        live.pop(message.key, None)
                    elif json.loads(message.value).get("job_id") in job_ids:
                        live[message.key] = tp.partition
    finally:
        await consumer.stop()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sends = [
            await producer.send(OPERATIONS, None, key=key, partition=partition)
            for key, partition in live.items()
            if key.startswith(b"generation:")
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def run(args: Any, bootstrap: str, sim_url: str, work: Path) -> dict[str, Any]:
    if args.profile is not None:
        profile(PidOnly(HELPERS["simulator"]), args.profile, "simulator")  # type: ignore[arg-type]
    await create_fleet_topics(KafkaSettings(bootstrap_servers=bootstrap), partitions=3)
    outcome: dict[str, Any] = {"watching": [], "adopting": []}
    for replicas in args.replicas:
        for size in args.sizes:
            outcome["watching"].append(
                await watch_run(bootstrap, sim_url, work, size, replicas, args)
            )
        if args.adopt > 0:
            adopted = await adopt_run(bootstrap, sim_url, work, args.adopt, replicas, args)
            outcome["adopting"].append(adopted)
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--base-seconds", type=float, default=60.0)
    parser.add_argument("--spread", type=float, default=120.0, help="seconds of random spread")
    parser.add_argument(
        "--adopt", type=int, default=10000, help="watches for the adoption run (0: none)"
    )
    parser.add_argument(
        "--polls", type=int, default=64, help="WORKER_MAX_CONCURRENT_POLLS of each replica"
    )
    parser.add_argument(
        "--status-latency",
        type=float,
        default=0.0,
        help="seconds the simulator waits before answering each status request",
    )
    parser.add_argument("--after-adopt", type=float, default=30.0, help="seconds watched after")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy output directory")
    parser.add_argument("--output", type=Path, default=RESULT, help="the JSON result file")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bria-watch-"))
    load_before = os.getloadavg()
    try:
        with broker_and_simulator(work, local=True) as (bootstrap, sim_url):
            outcome = asyncio.run(run(args, bootstrap, sim_url, work))
    finally:
        for profiler in PROFILERS:
            profiler.wait(30)
    outcome["load_average_before"], outcome["load_average_after"] = load_before, os.getloadavg()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(outcome, indent=2))


if __name__ == "__main__":
    main()
