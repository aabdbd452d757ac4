"""The reliability suite's fleet: its own broker and simulator, worker replicas as real
``bria-fleet worker <domain>`` processes, and what is read back to judge a scenario.

Everything here is plain objects (no pytest fixtures), so a benchmark or a script can drive
the same fleet: :class:`Broker` (a local Kafka that can be restarted on the same port and
data directory), :class:`Simulator` (``bria-fleet sim`` in a child process, with its call
log collected as it goes), :class:`Replicas` (N workers of one domain, killed, added and
stopped), :class:`EventLog` (every event and dead letter with its arrival time) and
:class:`Figures` (what a scenario prints and is judged on).
"""

import asyncio
import contextlib
import json
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bria_fleet.localkafka import LocalKafka
from bria_fleet.settings import KafkaSettings
from bria_fleet.stack import spawn
from bria_fleet.topics_admin import create_fleet_topics, require_topics
from bria_fleet_contracts import Domain, is_terminal, topics_for
from tests.fixtures.fleet import WorkerProcess
from tests.fixtures.kafka import free_port

BROKER_START_SECONDS = 120.0
DOMAINS: tuple[Domain, ...] = ("ingest", "caption", "training", "generation")
GENERATION_ROUTE = "text-to-image"


class Broker:
    """A local Kafka broker of the suite's own, restartable on the same port and data."""

    def __init__(self, data_dir: Path) -> None:
        self.kafka = LocalKafka(data_dir, port=free_port(), detach=False)

    @property
    def bootstrap(self) -> str:
        """``127.0.0.1:<port>``, the same across restarts."""
        return self.kafka.bootstrap

    @property
    def settings(self) -> KafkaSettings:
        """Settings that reach this broker."""
        return KafkaSettings(bootstrap_servers=self.bootstrap, security_protocol="PLAINTEXT")

    def start(self) -> None:
        """Start (or start again) on the same port and data directory."""
        self.kafka.start(timeout=BROKER_START_SECONDS)

    def stop(self) -> None:
        """Stop the broker (SIGTERM; SIGKILL if it lingers)."""
        self.kafka.stop()

    async def create_topics(self, partitions: int) -> None:
        """Every fleet topic, with ``partitions`` partitions each."""
        await create_fleet_topics(self.settings, partitions=partitions)


@dataclass
class Call:
    """One API call the simulator answered (from its call log)."""

    seq: int
    ended: float
    started: float
    route: str
    method: str
    status: int
    fault: str | None
    prompt: str | None


class Simulator:
    """``bria-fleet sim`` in a child process, and its call log collected in the background
    (the simulator keeps only its most recent calls, so the log is read as it grows)."""

    def __init__(self, token: str, log: Path) -> None:
        self.token = token
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = ["sim", "--port", str(self.port), "--seed", "14", "--quiet"]
        self.process = spawn(command, {"BRIA_API_TOKEN": token}, log)
        self.calls: list[Call] = []
        self._collector: asyncio.Task[None] | None = None
        self._reading = asyncio.Lock()  # the collector and catch_up() read one at a time

    def wait_ready(self, within: float = 30.0) -> None:
        """Wait until the simulator answers its health check."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{self.url}/_sim/health").raise_for_status()
                return
            time.sleep(0.1)
        raise RuntimeError(f"the simulator at {self.url} did not start")

    def stop(self) -> None:
        """End the simulator process."""
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def set_faults(self, **faults: Any) -> None:
        """Replace every injected fault (their time windows start now)."""
        httpx.put(f"{self.url}/_sim/faults", json=faults).raise_for_status()

    def set_timing(self, **timing: float) -> None:
        """Change the simulated durations (training, async generation, ...)."""
        httpx.put(f"{self.url}/_sim/timing", json=timing).raise_for_status()

    def counters(self) -> dict[str, Any]:
        """The simulator's effect counters."""
        answer: dict[str, Any] = httpx.get(f"{self.url}/_sim/counters").json()
        return answer

    def repeated_generation_bodies(self) -> int:
        """Successful generation calls whose exact body had been sent before (all time)."""
        duplicates = self.counters()["duplicates"]["generation_requests"]
        return sum(int(entry["count"]) - 1 for entry in duplicates)

    async def start_collecting(self) -> None:
        """Read the call log every half second from now on."""
        self._collector = asyncio.create_task(self._collect())

    async def stop_collecting(self) -> None:
        """Stop reading the call log, after one last read."""
        if self._collector is not None:
            self._collector.cancel()
            await asyncio.gather(self._collector, return_exceptions=True)
        await self._read_once()

    async def catch_up(self) -> None:
        """Read the calls answered since the last read (before judging on the log)."""
        await self._read_once()

    async def _collect(self) -> None:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                await self._read_once()
            await asyncio.sleep(0.5)

    async def _read_once(self) -> None:
        async with self._reading:
            since = self.calls[-1].seq if self.calls else 0
            async with httpx.AsyncClient(timeout=10.0) as client:
                answer = await client.get(f"{self.url}/_sim/calls", params={"since": since})
            self._append(answer.json(), since)

    def _append(self, answered: list[dict[str, Any]], since: int) -> None:
        for raw in answered:
            if int(raw["seq"]) <= since:
                continue
            ended = float(raw["at"])
            self.calls.append(
                Call(
                    seq=int(raw["seq"]),
                    ended=ended,
                    started=ended - float(raw["duration_ms"]) / 1000.0,
                    route=str(raw["route"] or raw["path"]),
                    method=str(raw["method"]),
                    status=int(raw["status"]),
                    fault=raw.get("fault"),
                    prompt=raw["fields"].get("prompt"),
                )
            )

    def generation_calls(self, prompts: Iterable[str]) -> list[Call]:
        """Every generation POST carrying one of ``prompts``."""
        wanted = set(prompts)
        return [
            call
            for call in self.calls
            if call.method == "POST" and GENERATION_ROUTE in call.route and call.prompt in wanted
        ]


@dataclass
class Replicas:
    """N worker replicas of one domain, each its own process, HTTP port and log."""

    domain: Domain
    env: dict[str, str]
    log_dir: Path
    live: list[WorkerProcess] = field(default_factory=list)
    ended: list[WorkerProcess] = field(default_factory=list)
    kills: list[float] = field(default_factory=list)  # wall-clock times of SIGKILLs

    def _new(self) -> WorkerProcess:
        log = self.log_dir / f"worker-{self.domain}-{uuid.uuid4().hex[:8]}.log"
        worker = WorkerProcess(self.domain, dict(self.env), log).start()
        self.live.append(worker)
        return worker

    async def add(self, count: int = 1) -> list[WorkerProcess]:
        """Start ``count`` more replicas and wait until each is consuming."""
        added = [self._new() for _ in range(count)]
        for worker in added:
            await worker.wait_ready(120.0)
        return added

    def kill(self, index: int = 0) -> WorkerProcess:
        """SIGKILL one live replica (no chance to finish or commit anything)."""
        worker = self.live.pop(index)
        self.kills.append(time.time())
        worker.signal(signal.SIGKILL)
        worker.wait_exit(30)
        self.ended.append(worker)
        return worker

    def leave(self, index: int = 0) -> WorkerProcess:
        """SIGTERM one live replica: it leaves gracefully (this call does not wait)."""
        worker = self.live.pop(index)
        worker.signal(signal.SIGTERM)
        self.ended.append(worker)
        return worker

    def terminate(self) -> None:
        """SIGTERM every replica still running, without waiting (they drain side by side)."""
        for worker in self.live + self.ended:
            if worker.process is not None and worker.process.poll() is None:
                worker.signal(signal.SIGTERM)

    def stop_all(self) -> None:
        """SIGTERM every replica still running and wait for it (SIGKILL if it lingers)."""
        self.terminate()
        for worker in self.live + self.ended:
            assert worker.process is not None
            try:
                worker.process.wait(90)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
        self.ended += self.live
        self.live = []

    def logs(self) -> list[Path]:
        """Every log file these replicas wrote."""
        return [w.log_path for w in self.live + self.ended if w.log_path.exists()]


@dataclass(frozen=True)
class Seen:
    """One event or dead letter, with the wall-clock time it was read."""

    topic: str
    at: float
    value: dict[str, Any]


class EventLog:
    """Every event and dead letter of some domains from now on, with arrival times."""

    def __init__(self, settings: KafkaSettings, domains: Iterable[Domain]) -> None:
        self.settings = settings
        self.topics = [t for d in domains for t in (topics_for(d).events, topics_for(d).dlq)]
        self.seen: list[Seen] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Position at the current end of every partition and read from there."""
        described = await require_topics(self.settings, self.topics)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.bootstrap_servers, enable_auto_commit=False
        )
        await self._consumer.start()
        partitions = [TopicPartition(t, p) for t, ps in described.items() for p in ps]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for tp in partitions:
            await self._consumer.position(tp)
        self._task = asyncio.create_task(self._read(self._consumer))

    async def stop(self) -> None:
        """Stop reading."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.stop()

    async def _read(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            with contextlib.suppress(Exception):  # the broker may be down for a while
                batches = await consumer.getmany(timeout_ms=200)
                now = time.time()
                for messages in batches.values():
                    for message in messages:
                        with contextlib.suppress(ValueError, TypeError):
                            value = json.loads(message.value)
                            if isinstance(value, dict):
                                self.seen.append(Seen(message.topic, now, value))
                continue
            await asyncio.sleep(0.5)

    def events(self, job_id: str) -> list[Seen]:
        """The events of ``job_id`` read so far."""
        return [s for s in self.seen if "event_id" in s.value and s.value.get("job_id") == job_id]

    def terminal_records(self, job_id: str) -> list[Seen]:
        """Every terminal record of ``job_id`` (the same event id may come more than once)."""
        return [s for s in self.events(job_id) if is_terminal(str(s.value.get("type")))]

    def terminal(self, job_id: str) -> dict[str, dict[str, Any]]:
        """The distinct terminal events of ``job_id`` by event id."""
        distinct: dict[str, dict[str, Any]] = {}
        for seen in self.terminal_records(job_id):
            distinct.setdefault(str(seen.value["event_id"]), seen.value)
        return distinct

    def first_terminal_at(self, job_id: str) -> float | None:
        """When the first terminal record of ``job_id`` was read."""
        records = self.terminal_records(job_id)
        return records[0].at if records else None

    async def wait_terminal(self, job_ids: Iterable[str], within: float) -> float:
        """Wait (at most ``within`` seconds) until every job has a terminal event; the time
        the last one was read, or of giving up."""
        pending = set(job_ids)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            pending = {j for j in pending if not self.terminal_records(j)}
            if not pending:
                break
            await asyncio.sleep(0.5)
        return max((self.first_terminal_at(j) or time.time() for j in job_ids), default=0.0)


@dataclass
class Figures:
    """What one scenario measured; printed, written to JSON, and judged."""

    scenario: str
    values: dict[str, Any] = field(default_factory=dict)

    def add(self, **values: Any) -> None:
        """Record some figures."""
        self.values.update(values)

    def line(self) -> str:
        """One line for the terminal summary."""
        shown = ", ".join(f"{k}={_short(v)}" for k, v in self.values.items())
        return f"{self.scenario}: {shown}"


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def outcome_figures(log: EventLog, job_ids: list[str]) -> dict[str, Any]:
    """Jobs, completed, failed, lost, conflicting and duplicate terminal events."""
    kinds: Counter[str] = Counter()
    lost = conflicting = duplicate_records = 0
    for job_id in job_ids:
        distinct = log.terminal(job_id)
        records = log.terminal_records(job_id)
        if not distinct:
            lost += 1
            continue
        if len(distinct) > 1:
            conflicting += 1
        duplicate_records += len(records) - len(distinct)
        kinds[next(iter(distinct.values()))["type"]] += 1
    completed = sum(n for kind, n in kinds.items() if kind.endswith(".completed"))
    failed = sum(n for kind, n in kinds.items() if kind.endswith(".failed"))
    return {
        "jobs": len(job_ids),
        "completed": completed,
        "failed": failed,
        "other_terminal": len(job_ids) - lost - completed - failed,
        "lost": lost,
        "jobs_with_two_different_terminal_events": conflicting,
        "duplicate_terminal_records": duplicate_records,
        "terminal_types": dict(kinds),
    }


def generation_request(job_id: str) -> dict[str, Any]:
    """A synchronous text_to_image job whose prompt names the job (so calls map to jobs)."""
    return {"job_id": job_id, "op": "text_to_image", "model_id": "300", "prompt": prompt(job_id)}


def prompt(job_id: str) -> str:
    """The prompt :func:`generation_request` sends for ``job_id``."""
    return f"a lighthouse at dusk ({job_id})"


async def publish(
    settings: KafkaSettings, domain: Domain, requests: Iterable[dict[str, Any]]
) -> None:
    """Publish requests to ``domain``'s request topic, keyed by job id, all acknowledged."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    await producer.start()
    try:
        sends = [
            await producer.send(
                topics_for(domain).requests,
                json.dumps(request).encode(),
                key=str(request["job_id"]).encode(),
            )
            for request in requests
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


def repeated_calls(sim: Simulator, job_ids: Iterable[str]) -> dict[str, int]:
    """Per job, successful generation calls beyond the first (only jobs that had some)."""
    by_prompt = {prompt(j): j for j in job_ids}
    counts = Counter(
        by_prompt[str(c.prompt)] for c in sim.generation_calls(by_prompt) if 200 <= c.status < 300
    )
    return {job: n - 1 for job, n in counts.items() if n > 1}


def requests_per_job(sim: Simulator, job_ids: list[str]) -> float:
    """Generation calls made (any answer) per job."""
    calls = sim.generation_calls(prompt(j) for j in job_ids)
    return len(calls) / max(1, len(job_ids))
