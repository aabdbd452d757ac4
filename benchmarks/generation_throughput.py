"""Generation throughput of one worker process, against the ideal and against a bare loop.

Starts its own Kafka broker (unless KAFKA_BOOTSTRAP_SERVERS is set) and its own simulator
process, then measures in the same process tree:

1. at a fixed simulated latency L with an in-flight limit C (``WORKER_CONCURRENCY``: jobs
   calling the API at once), jobs per second of a ``bria-fleet worker generation``
   process against the ideal C / L;
2. at zero latency, jobs per second of the worker against a bare aiokafka consume → httpx
   POST → aiokafka produce loop with the same concurrency and no guarantees;

and prints both ratios and the worker's peak RSS (and writes them to
``.cache/bench/generation_throughput.json``). Requests are published before the
consumer starts, so only consumption is timed; an untimed round of jobs runs first, with
its own worker, to warm up the broker. ``BENCH_PY_SPY_DIR=DIR`` records each worker with
py-spy (``pip install -e '.[bench]'``) into ``DIR`` as collapsed stacks, at
``BENCH_PY_SPY_RATE`` samples per second (50). Usage:

    python benchmarks/generation_throughput.py [--jobs 4000] [--concurrency 64]
"""

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from httpx_aiohttp import AiohttpTransport

from bria_fleet.localkafka import LocalKafka
from bria_fleet.settings import KafkaSettings
from bria_fleet.topics_admin import create_fleet_topics, require_topics
from bria_fleet_contracts import topics_for

TOPICS = topics_for("generation")
#: The simulator's and the broker's process ids, once started: their CPU per job is printed.
HELPERS: dict[str, int] = {}
RESULT = Path(".cache/bench/generation_throughput.json")
SIM_TOKEN = "bench-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def request(job_id: str) -> bytes:
    body = {"job_id": job_id, "op": "text_to_image", "model_id": "300", "prompt": f"cat {job_id}"}
    return json.dumps(body).encode()


async def publish(bootstrap: str, topic: str, job_ids: list[str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        sends = [
            await producer.send(topic, request(job_id), key=job_id.encode()) for job_id in job_ids
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def wait_for_events(bootstrap: str, topic: str, job_ids: set[str]) -> float:
    """Read ``topic`` from its current end until every job has an event; the time it ended."""
    described = await require_topics(KafkaSettings(bootstrap_servers=bootstrap), [topic])
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    partitions = [TopicPartition(topic, p) for p in described[topic]]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for tp in partitions:
        await consumer.position(tp)
    return await _drain(consumer, job_ids)


async def _drain(consumer: AIOKafkaConsumer, job_ids: set[str]) -> float:
    pending = set(job_ids)
    try:
        while pending:
            batches = await consumer.getmany(timeout_ms=500)
            for messages in batches.values():
                for message in messages:
                    pending.discard(json.loads(message.value)["job_id"])
        return time.perf_counter()
    finally:
        await consumer.stop()


def start_worker(
    bootstrap: str, sim_url: str, concurrency: int, log: Path
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "BRIA_API_BASE_URL": sim_url,
        "BRIA_API_TOKEN": SIM_TOKEN,
        "HTTP_PORT": str(port),
        "WORKER_CONCURRENCY": str(concurrency),
        "BRIA_API_MAX_CONNECTIONS": str(concurrency * 2),
        "BRIA_API_MAX_KEEPALIVE_CONNECTIONS": str(concurrency * 2),
    }
    cprofile = os.environ.get("BENCH_PROFILE_WORKER")
    profiler = ["-m", "cProfile", "-o", f"{cprofile}.{log.stem}"] if cprofile else []
    process = subprocess.Popen(
        [sys.executable, *profiler, "-m", "bria_fleet", "worker", "generation"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    py_spy_dir = os.environ.get("BENCH_PY_SPY_DIR")
    profile(process, Path(py_spy_dir) if py_spy_dir else None, log.stem)
    return process, port


PROFILERS: list[subprocess.Popen[bytes]] = []


def profile(process: subprocess.Popen[bytes], directory: Path | None, name: str) -> None:
    """Record ``process`` with py-spy until it exits (collapsed stacks, for flame graphs)."""
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    command = [py_spy, "record", "--pid", str(process.pid), "--format", "raw", "--nonblocking"]
    rate = os.environ.get("BENCH_PY_SPY_RATE", "50")
    command += ["--rate", rate, "-o", str(directory / f"{name}.txt")]
    quiet = subprocess.DEVNULL
    PROFILERS.append(subprocess.Popen(command, stdout=quiet, stderr=quiet))


def helpers_cpu() -> dict[str, float]:
    """CPU seconds the simulator and the broker have used so far."""
    return {name: cpu_seconds(pid) for name, pid in HELPERS.items()}


def print_helpers_cpu(before: dict[str, float], jobs: int) -> None:
    after = helpers_cpu()
    costs = [f"{name} {1000 * (after[name] - before[name]) / jobs:.2f} ms" for name in after]
    print(f"  CPU per job of the rest of the rig: {', '.join(costs)}")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def measure_worker(
    bootstrap: str, sim_url: str, jobs: int, concurrency: int, log: Path
) -> tuple[float, float]:
    """Jobs per second of a worker process, and its peak RSS in MiB."""
    job_ids = [f"bench-{uuid.uuid4().hex[:8]}-{n}" for n in range(jobs)]
    await publish(bootstrap, TOPICS.requests, job_ids)
    waiting = asyncio.create_task(wait_for_events(bootstrap, TOPICS.events, set(job_ids)))
    await asyncio.sleep(1.0)  # the reader is positioned before the worker starts
    process, port = start_worker(bootstrap, sim_url, concurrency, log)
    try:
        started = await wait_until_consuming(port, process)
        cpu_at_start = cpu_seconds(process.pid)
        helpers_at_start = helpers_cpu()
        sampling = asyncio.create_task(sample_in_flight(port))
        finished = await waiting
        cpu_used = cpu_seconds(process.pid) - cpu_at_start
        print_helpers_cpu(helpers_at_start, jobs)
        sampling.cancel()
        samples = await sampling
        rss = peak_rss_mib(process.pid)
        await print_durations(port)
        print(
            f"  worker CPU: {1000 * cpu_used / jobs:.2f} ms per job,"
            f" {100 * cpu_used / (finished - started):.0f}% of a core"
        )
        if samples:
            print(
                "  jobs in flight in the worker (calling the API or writing their outcome):"
                f" mean {sum(samples) / len(samples):.1f},"
                f" max {max(samples):.0f} ({len(samples)} samples)"
            )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    return jobs / (finished - started), rss


async def sample_in_flight(port: int) -> list[float]:
    """Read the worker's in-flight gauge every 500 ms until cancelled (a scrape costs CPU)."""
    samples: list[float] = []
    async with httpx.AsyncClient() as client:
        try:
            while True:
                text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
                for line in text.splitlines():
                    if line.startswith("bria_fleet_jobs_in_flight{"):
                        samples.append(float(line.rsplit(" ", 1)[1]))
                await asyncio.sleep(0.5)
        except asyncio.CancelledError:
            return samples


async def print_durations(port: int) -> None:
    """Mean time of one API call and of one whole job, from the worker's own histograms."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
    totals: dict[str, float] = {}
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        for metric in (
            "bria_fleet_api_request_duration_seconds",
            "bria_fleet_kafka_write_duration_seconds",
            "faststream_received_processed_messages_duration_seconds",
        ):
            for suffix in ("_sum", "_count"):
                if name.startswith(metric + suffix):
                    key = metric + suffix
                    totals[key] = totals.get(key, 0.0) + float(value)
    for metric, label in (
        ("bria_fleet_api_request_duration_seconds", "API call"),
        ("bria_fleet_kafka_write_duration_seconds", "Kafka write (acknowledged)"),
        ("faststream_received_processed_messages_duration_seconds", "whole job"),
    ):
        count = totals.get(metric + "_count", 0.0)
        if count:
            print(f"  mean {label}: {1000 * totals[metric + '_sum'] / count:.1f} ms")


async def wait_until_consuming(port: int, process: subprocess.Popen[bytes]) -> float:
    async with httpx.AsyncClient() as client:
        while True:
            if process.poll() is not None:
                raise SystemExit("the worker exited before it was ready; see its log")
            try:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return time.perf_counter()
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)


async def measure_bare_loop(bootstrap: str, sim_url: str, jobs: int, concurrency: int) -> float:
    """Jobs per second of the simplest concurrent consume → POST → produce loop."""
    job_ids = [f"bare-{uuid.uuid4().hex[:8]}-{n}" for n in range(jobs)]
    topic = f"bench.bare.{uuid.uuid4().hex[:8]}"
    await publish(bootstrap, topic, job_ids)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=topic, auto_offset_reset="earliest"
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=2)
    limits = httpx.Limits(
        max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2
    )
    headers = {"api_token": SIM_TOKEN}
    # The same HTTP stack as the worker's client, so the ratio measures only our runtime.
    transport = AiohttpTransport(limits=limits)
    async with httpx.AsyncClient(
        base_url=sim_url, limits=limits, headers=headers, transport=transport
    ) as http:
        await consumer.start()
        await producer.start()
        slots = asyncio.Semaphore(concurrency)
        done = 0
        all_done = asyncio.Event()

        async def one(value: bytes) -> None:
            nonlocal done
            body = json.loads(value)
            try:
                answer = await http.post(
                    "/v1/text-to-image/tailored/300", json={"prompt": body["prompt"], "sync": True}
                )
                await producer.send_and_wait(topic + ".out", answer.content)
            finally:
                slots.release()
                done += 1
                if done == jobs:
                    all_done.set()

        started = time.perf_counter()
        helpers_at_start = helpers_cpu()
        own_at_start = cpu_seconds(os.getpid())
        tasks = set()
        while not all_done.is_set() and done + len(tasks) < jobs * 2:
            batches = await consumer.getmany(timeout_ms=100)
            for messages in batches.values():
                for message in messages:
                    await slots.acquire()
                    task = asyncio.create_task(one(message.value))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
            if done >= jobs:
                break
        await all_done.wait()
        elapsed = time.perf_counter() - started
        own = cpu_seconds(os.getpid()) - own_at_start
        print(f"  bare loop CPU: {1000 * own / jobs:.2f} ms per job")
        print_helpers_cpu(helpers_at_start, jobs)
        await consumer.stop()
        await producer.stop()
    return jobs / elapsed


def set_latency(sim_url: str, seconds: float) -> None:
    """Every call takes ``seconds``; a synchronous generation adds nothing of its own."""
    body = {"latency": {"fixed_seconds": seconds}}
    httpx.put(f"{sim_url}/_sim/faults", json=body).raise_for_status()
    httpx.put(f"{sim_url}/_sim/timing", json={"generation_seconds": 0}).raise_for_status()


def wait_for_simulator(sim_url: str) -> None:
    for _ in range(100):
        try:
            httpx.get(f"{sim_url}/_sim/health").raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the simulator did not start")


async def run_phases(
    args: argparse.Namespace, bootstrap: str, sim_url: str, work: Path
) -> dict[str, float]:
    await create_fleet_topics(KafkaSettings(bootstrap_servers=bootstrap), partitions=3)
    concurrency = args.concurrency

    set_latency(sim_url, args.latency)
    if args.warmup_jobs:
        # The broker's JVM compiles its hot paths during the first few thousand writes; an
        # untimed round first keeps that out of the figures.
        warmup, _ = await measure_worker(
            bootstrap, sim_url, args.warmup_jobs, concurrency, work / "w0.log"
        )
        print(f"warm-up ({args.warmup_jobs} jobs, not counted): {warmup:.1f} jobs/s")
    rate, rss = await measure_worker(bootstrap, sim_url, args.jobs, concurrency, work / "w1.log")
    ideal = concurrency / args.latency
    print(
        f"latency {args.latency * 1000:.0f} ms, C={concurrency} API calls in flight, 3 partitions,"
        f" {args.jobs} jobs:"
        f" worker {rate:.1f} jobs/s; ideal C/latency {ideal:.1f} jobs/s; ratio"
        f" {rate / ideal:.2f} (per-partition sequential: {3 / args.latency:.1f} jobs/s);"
        f" worker peak RSS {rss:.0f} MiB"
    )

    set_latency(sim_url, 0.0)
    worker_rate, rss = await measure_worker(
        bootstrap, sim_url, args.fast_jobs, concurrency, work / "w2.log"
    )
    bare_rate = await measure_bare_loop(bootstrap, sim_url, args.fast_jobs, concurrency)
    print(
        f"latency 0, C={concurrency}, {args.fast_jobs} jobs: worker {worker_rate:.1f} jobs/s;"
        f" bare consume->POST->produce loop {bare_rate:.1f} jobs/s;"
        f" ratio {worker_rate / bare_rate:.2f}; worker peak RSS {rss:.0f} MiB"
    )
    return {
        "latency_seconds": args.latency,
        "concurrency": concurrency,
        "jobs_per_second": rate,
        "ideal_jobs_per_second": ideal,
        "zero_latency_jobs_per_second": worker_rate,
        "bare_loop_jobs_per_second": bare_rate,
        "zero_latency_ratio": worker_rate / bare_rate,
    }


@contextlib.contextmanager
def broker_and_simulator(work: Path, *, local: bool = False) -> Iterator[tuple[str, str]]:
    """A Kafka broker (``KAFKA_BOOTSTRAP_SERVERS`` if set and not ``local``, else one of its
    own in ``work``) and a simulator process; yields their addresses, stops what it started."""
    broker = None
    bootstrap = None if local else os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        broker = LocalKafka(work / "kafka", port=free_port(), detach=False)
        broker.start(timeout=120)
        bootstrap = broker.bootstrap
    sim_port = free_port()
    sim_command = ["sim", "--port", str(sim_port), "--token", SIM_TOKEN, "--quiet"]
    sim = subprocess.Popen(
        [sys.executable, "-m", "bria_fleet", *sim_command],
        stdout=(work / "sim.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    sim_url = f"http://127.0.0.1:{sim_port}"
    HELPERS["simulator"] = sim.pid
    if broker is not None and broker.pid_file.is_file():
        HELPERS["broker"] = int(broker.pid_file.read_text())
    try:
        wait_for_simulator(sim_url)
        print(f"broker {bootstrap}, simulator {sim_url}, logs in {work}")
        yield bootstrap, sim_url
    finally:
        sim.terminate()
        sim.wait(30)
        if broker is not None:
            broker.stop()
            # The broker's data goes; its log stays in ``work`` with the others.
            with contextlib.suppress(OSError):
                broker.log_file.rename(work / "kafka.log")
            shutil.rmtree(broker.data_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--jobs", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.2, help="seconds, for phase 1")
    parser.add_argument("--fast-jobs", type=int, default=3000, help="jobs at zero latency")
    parser.add_argument("--warmup-jobs", type=int, default=2000, help="untimed jobs first")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bria-bench-"))
    load_before = os.getloadavg()
    with broker_and_simulator(work) as (bootstrap, sim_url):
        outcome = asyncio.run(run_phases(args, bootstrap, sim_url, work))
    for profiler in PROFILERS:
        profiler.wait(30)
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    load = {"load_average_before": load_before, "load_average_after": os.getloadavg()}
    RESULT.write_text(json.dumps({**outcome, **load}, indent=2))


if __name__ == "__main__":
    main()
