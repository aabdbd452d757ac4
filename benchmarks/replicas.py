"""Generation replicas in one consumer group: scale-out, and the pauses of a rebalance.

Starts its own Kafka broker (topics with 12 partitions) and simulator process, then:

1. **Scale-out**: for N = 1, 2, 4 replicas (``WORKER_CONCURRENCY`` C each, every API call
   taking L seconds), publishes N·C/L times ``--seconds`` jobs at once and measures jobs per
   second against the ideal N·C/L: over the whole burst, and steady (between the 10th and
   90th percentile of completions, before the uneven tail of a burst hashed over partitions).
2. **Rebalance**: with a steady stream of jobs into 2 replicas, a third joins, then one
   leaves gracefully (SIGTERM), then one is killed (SIGKILL). For each change: the longest
   gap between completions, the API calls repeated meanwhile (the simulator counts the same
   generation body sent twice), and the time until completions keep pace with the stream
   again.

Prints one line per figure and writes ``.cache/bench/replicas.json``. Usage:

    python benchmarks/replicas.py [--concurrency 16] [--latency 1.0] [--seconds 20]
"""

import argparse
import asyncio
import itertools
import json
import os
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from generation_throughput import (
    TOPICS,
    broker_and_simulator,
    cpu_seconds,
    publish,
    request,
    set_latency,
    start_worker,
    wait_for_events,
    wait_until_consuming,
)

from bria_fleet.settings import KafkaSettings
from bria_fleet.topics_admin import create_fleet_topics, require_topics

PARTITIONS = 12
RESULT = Path(".cache/bench/replicas.json")
Replica = tuple[subprocess.Popen[bytes], int]


async def start_replicas(
    count: int, bootstrap: str, sim_url: str, concurrency: int, work: Path
) -> list[Replica]:
    replicas = [
        start_worker(bootstrap, sim_url, concurrency, work / f"r-{uuid.uuid4().hex[:6]}.log")
        for _ in range(count)
    ]
    for process, port in replicas:
        await wait_until_consuming(port, process)
    return replicas


def stop(replicas: list[Replica]) -> None:
    for process, _ in replicas:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process, _ in replicas:
        process.wait(90)


def machine_cpu() -> tuple[float, float]:
    """Busy and total CPU time of the whole machine so far (seconds, all cores)."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK"), sum(fields[:8]) / os.sysconf(
        "SC_CLK_TCK"
    )


async def histogram_mean(ports: list[int], name: str) -> float:
    """The mean of a histogram over every replica's /metrics."""
    total = count = 0.0
    async with httpx.AsyncClient() as client:
        for port in ports:
            for line in (await client.get(f"http://127.0.0.1:{port}/metrics")).text.splitlines():
                value = line.rpartition(" ")[2]
                if line.startswith(f"{name}_sum"):
                    total += float(value)
                elif line.startswith(f"{name}_count"):
                    count += float(value)
    return total / count if count else float("nan")


async def scale_out(
    bootstrap: str, sim_url: str, work: Path, count: int, args: argparse.Namespace
) -> dict[str, float]:
    replicas = await start_replicas(count, bootstrap, sim_url, args.concurrency, work)
    try:
        await asyncio.sleep(args.settle)  # the group settles on one assignment
        ideal = count * args.concurrency / args.latency
        jobs = int(ideal * args.seconds)
        job_ids = [f"scale-{count}-{uuid.uuid4().hex[:6]}-{n}" for n in range(jobs)]
        waiting = asyncio.create_task(wait_for_events(bootstrap, TOPICS.events, set(job_ids)))
        completions = Completions()
        following = asyncio.create_task(completions.follow(bootstrap))
        await asyncio.sleep(1.0)
        started = time.perf_counter()
        busy_at_start, total_at_start = machine_cpu()
        cpu_at_start = sum(cpu_seconds(process.pid) for process, _ in replicas)
        await publish(bootstrap, TOPICS.requests, job_ids)
        finished = await waiting
        following.cancel()
        busy, total = machine_cpu()
        replica_cpu = sum(cpu_seconds(process.pid) for process, _ in replicas) - cpu_at_start
        ports = [port for _, port in replicas]
        api_call = await histogram_mean(ports, "bria_fleet_api_request_duration_seconds")
        whole_job = await histogram_mean(
            ports, "faststream_received_processed_messages_duration_seconds"
        )
    finally:
        stop(replicas)
    elapsed = finished - started
    rate = jobs / elapsed
    steady = completions.steady_rate(job_ids)
    cores = os.cpu_count() or 1
    machine = cores * (busy - busy_at_start) / (total - total_at_start)
    # What N*C/L would be with the API calls as slow as they were measured (the simulator
    # shares the cores); a "whole job" also counts the wait for one of the C API slots.
    bound = count * args.concurrency / api_call
    print(
        f"scale-out: {count} replica(s) x C={args.concurrency}, latency {args.latency:g} s,"
        f" {jobs} jobs: {rate:.1f} jobs/s; ideal N*C/L {ideal:.1f}; ratio {rate / ideal:.2f};"
        f" mean API call {1000 * api_call:.0f} ms, mean whole job {1000 * whole_job:.0f} ms"
        f" (N*C/call {bound:.1f} jobs/s, ratio {rate / bound:.2f});"
        f" steady (10th to 90th percentile of completions) {steady:.1f} jobs/s, ratio"
        f" {steady / ideal:.2f};"
        f" replicas' CPU {replica_cpu / elapsed:.2f} cores,"
        f" machine busy {machine:.2f} of {cores} cores"
    )
    return {
        "replicas": count,
        "jobs": jobs,
        "jobs_per_second": rate,
        "ideal": ideal,
        "ratio": rate / ideal,
        "mean_api_call_seconds": api_call,
        "mean_job_seconds": whole_job,
        "ideal_at_measured_call": bound,
        "steady_jobs_per_second": steady,
        "steady_ratio": steady / ideal,
        "replicas_cpu_cores": replica_cpu / elapsed,
        "machine_busy_cores": machine,
    }


@dataclass
class Completions:
    """When each job's first terminal event arrived (monotonic seconds)."""

    at: dict[str, float] = field(default_factory=dict)

    async def follow(self, bootstrap: str) -> None:
        described = await require_topics(
            KafkaSettings(bootstrap_servers=bootstrap), [TOPICS.events]
        )
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        partitions = [TopicPartition(TOPICS.events, p) for p in described[TOPICS.events]]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=200)
                now = time.monotonic()
                for messages in batches.values():
                    for message in messages:
                        self.at.setdefault(json.loads(message.value)["job_id"], now)
        finally:
            await consumer.stop()

    def steady_rate(self, job_ids: list[str]) -> float:
        """Jobs per second between the 10th and the 90th percentile of ``job_ids``'
        completions: while every replica is busy, before a burst's uneven tail (keys hash
        unevenly over partitions, so some replicas run out of work before others)."""
        times = sorted(self.at[job_id] for job_id in job_ids if job_id in self.at)
        first, last = times[len(times) // 10], times[(9 * len(times)) // 10]
        return ((9 * len(times)) // 10 - len(times) // 10) / (last - first)

    def longest_gap(self, start: float, end: float) -> float:
        times = sorted(t for t in self.at.values() if start <= t <= end)
        edges = [start, *times, end]
        return max(b - a for a, b in itertools.pairwise(edges))

    def back_to_pace(self, start: float, end: float, rate: float) -> float | None:
        """Seconds from ``start`` until a 2-second window completes at 90 % of ``rate``."""
        times = sorted(t for t in self.at.values() if start <= t <= end)
        for index, moment in enumerate(times):
            window = [t for t in times[index:] if t < moment + 2.0]
            if len(window) >= 0.9 * rate * 2.0:
                return moment - start
        return None


def repeated_calls(sim_url: str) -> int:
    counters: dict[str, Any] = httpx.get(f"{sim_url}/_sim/counters").json()
    return sum(d["count"] - 1 for d in counters["duplicates"]["generation_requests"])


async def stream(bootstrap: str, rate: float, stop_at: float, sent: list[str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    run = uuid.uuid4().hex[:6]
    try:
        while time.monotonic() < stop_at:
            job_id = f"stream-{run}-{len(sent)}"
            await producer.send(TOPICS.requests, request(job_id), key=job_id.encode())
            sent.append(job_id)
            await asyncio.sleep(1.0 / rate)
        await producer.flush()
    finally:
        await producer.stop()


async def rebalance(
    bootstrap: str, sim_url: str, work: Path, args: argparse.Namespace
) -> list[dict[str, Any]]:
    replicas = await start_replicas(2, bootstrap, sim_url, args.concurrency, work)
    rate = 0.6 * 2 * args.concurrency / args.latency
    completions = Completions()
    following = asyncio.create_task(completions.follow(bootstrap))
    await asyncio.sleep(1.0)
    phase = args.phase_seconds
    began = time.monotonic()
    sent: list[str] = []
    streaming = asyncio.create_task(stream(bootstrap, rate, began + 4 * phase, sent))
    changes: list[tuple[str, float, int]] = []
    try:
        await asyncio.sleep(phase)
        changes.append(("join", time.monotonic(), repeated_calls(sim_url)))
        replicas += await start_replicas(1, bootstrap, sim_url, args.concurrency, work)
        await asyncio.sleep(phase)
        changes.append(("graceful leave", time.monotonic(), repeated_calls(sim_url)))
        leaving, _ = replicas.pop(0)
        leaving.send_signal(signal.SIGTERM)
        await asyncio.sleep(phase)
        changes.append(("kill", time.monotonic(), repeated_calls(sim_url)))
        killed, _ = replicas.pop(0)
        killed.send_signal(signal.SIGKILL)
        await streaming
        deadline = time.monotonic() + 120
        while set(sent) - set(completions.at) and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.5)
        ends = [at for _, at, _ in changes[1:]] + [time.monotonic()]
        # Repeated calls per change: the simulator's counter grows until the next change.
        marks = [calls for _, _, calls in changes] + [repeated_calls(sim_url)]
        results = []
        for (name, at, _), end, before, after in zip(changes, ends, marks, marks[1:], strict=False):
            pace = completions.back_to_pace(at, end, rate)
            entry = {
                "change": name,
                "longest_gap_seconds": completions.longest_gap(at, min(end, at + phase)),
                "back_to_pace_seconds": pace,
                "repeated_calls": after - before,
            }
            results.append(entry)
            print(
                f"rebalance, {name}: longest gap in completions"
                f" {entry['longest_gap_seconds']:.2f} s; back to pace after"
                f" {'never' if pace is None else f'{pace:.1f} s'};"
                f" API calls repeated {after - before}"
            )
        lost = len(set(sent) - set(completions.at))
        print(f"rebalance: {len(sent)} jobs streamed at {rate:.1f}/s, {lost} without an event")
        return results
    finally:
        following.cancel()
        await asyncio.gather(following, return_exceptions=True)
        stop(replicas)


async def run(args: argparse.Namespace, bootstrap: str, sim_url: str, work: Path) -> dict[str, Any]:
    await create_fleet_topics(KafkaSettings(bootstrap_servers=bootstrap), partitions=PARTITIONS)
    set_latency(sim_url, args.latency)
    outcome: dict[str, Any] = {"scale_out": [], "rebalance": []}
    for count in args.replicas:
        outcome["scale_out"].append(await scale_out(bootstrap, sim_url, work, count, args))
    outcome["rebalance"] = await rebalance(bootstrap, sim_url, work, args)
    return outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=1.0, help="seconds per API call")
    parser.add_argument("--seconds", type=float, default=20.0, help="ideal length of a run")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--settle", type=float, default=5.0, help="seconds for the group")
    parser.add_argument("--phase-seconds", type=float, default=20.0)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bria-replicas-"))
    load_before = os.getloadavg()
    with broker_and_simulator(work) as (bootstrap, sim_url):
        outcome = asyncio.run(run(args, bootstrap, sim_url, work))
    outcome["load_average_before"], outcome["load_average_after"] = load_before, os.getloadavg()
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(outcome, indent=2))


if __name__ == "__main__":
    main()
