"""The hostile corpus on a real broker, interleaved with valid jobs, against real workers.

Every hostile record must be accounted for in the dead-letter topic with the reason code its
corpus entry names (matched by the source topic, partition and offset headers), with a
failure event where its job id is usable; every job (the valid ones, and the hostile records
that are valid jobs) must end in exactly one terminal event; the workers' committed offsets
must reach the end of every request and retry partition; and their logs must hold no
traceback and no line forged by a job's text.
"""

import asyncio
import json
import signal
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bria_fleet.kafka_client import aiokafka_options
from bria_fleet.settings import KafkaSettings
from bria_fleet.sim import SimServer
from bria_fleet.topics_admin import require_topics
from bria_fleet_contracts import Domain, consumer_group, is_terminal, topics_for
from tests.fixtures.fleet import StartWorker, WorkerProcess
from tests.hostile.corpus import Case, make_corpus
from tests.hostile.requests import valid_request

pytestmark = pytest.mark.integration

DOMAINS: tuple[Domain, ...] = ("generation", "ingest")
VALID_EVERY = 4
"""A valid job after every this many hostile records."""
SETTLE_SECONDS = 60.0


@dataclass(frozen=True)
class Sent:
    """One record published: its case (``None`` for a valid job), domain and position."""

    domain: Domain
    case: Case
    topic: str
    partition: int
    offset: int


@dataclass
class Seen:
    """What came out on the dead-letter and events topics."""

    dead_letters: dict[tuple[str, int, int], list[dict[str, str]]]
    events: dict[str, list[dict[str, Any]]]


def _headers(raw: list[tuple[str, bytes | None]]) -> dict[str, str]:
    return {name: (value or b"").decode(errors="replace") for name, value in raw}


async def _publish(settings: KafkaSettings, run: str) -> tuple[list[Sent], dict[Domain, int]]:
    options = aiokafka_options(settings)
    plain = AIOKafkaProducer(**options, acks="all", max_request_size=8 * 1024 * 1024)
    gzipped = AIOKafkaProducer(
        **options, acks="all", max_request_size=8 * 1024 * 1024, compression_type="gzip"
    )
    await plain.start()
    await gzipped.start()
    sent: list[Sent] = []
    cases_per_domain: dict[Domain, int] = {}
    try:
        for domain in DOMAINS:
            topics = topics_for(domain)

            def job_id(name: str, domain: Domain = domain) -> str:
                return f"hostile-{run}-{domain[:3]}-{name}"

            corpus = make_corpus(domain, lambda j, d=domain: valid_request(d, j), job_id)
            cases_per_domain[domain] = len(corpus)
            for number, case in enumerate(corpus):
                records = [case]
                if number % VALID_EVERY == VALID_EVERY - 1:
                    valid_id = job_id(f"valid-{number}")
                    records.append(
                        Case(
                            "valid job",
                            json.dumps(valid_request(domain, valid_id)).encode(),
                            None,
                            valid_id,
                            key=valid_id.encode(),
                        )
                    )
                for record in records:
                    topic = topics.requests if record.topic == "requests" else topics.retry
                    producer = gzipped if record.compressed else plain
                    metadata = await producer.send_and_wait(
                        topic, value=record.value, key=record.key, headers=record.headers
                    )
                    sent.append(Sent(domain, record, topic, metadata.partition, metadata.offset))
    finally:
        await plain.stop()
        await gzipped.stop()
    return sent, cases_per_domain


class _Reader:
    """Reads the dead-letter and events topics of both domains from their current end."""

    def __init__(self, settings: KafkaSettings) -> None:
        self._settings = settings
        self._consumer = AIOKafkaConsumer(
            **aiokafka_options(settings),
            enable_auto_commit=False,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        self.seen = Seen(defaultdict(list), defaultdict(list))

    async def start(self) -> None:
        names = [t for d in DOMAINS for t in (topics_for(d).dlq, topics_for(d).events)]
        described = await require_topics(self._settings, names)
        partitions = [TopicPartition(t, p) for t, ps in described.items() for p in ps]
        await self._consumer.start()
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for partition in partitions:
            await self._consumer.position(partition)

    async def drain(self) -> None:
        """Read everything published so far."""
        while batches := await self._consumer.getmany(timeout_ms=300):
            for records in batches.values():
                for record in records:
                    headers = _headers(record.headers)
                    if record.topic.endswith(".dlq"):
                        source = (
                            headers.get("bria_source_topic", ""),
                            int(headers.get("bria_source_partition", "-1")),
                            int(headers.get("bria_source_offset", "-1")),
                        )
                        self.seen.dead_letters[source].append(headers)
                    elif record.value is not None:
                        event = json.loads(record.value)
                        self.seen.events[event["job_id"]].append(event)

    async def stop(self) -> None:
        await self._consumer.stop()


def _missing(sent: list[Sent], seen: Seen) -> list[str]:
    """What has not come out yet."""
    missing = []
    for record in sent:
        case = record.case
        if case.dead_letter is not None and not seen.dead_letters.get(
            (record.topic, record.partition, record.offset)
        ):
            missing.append(f"{record.domain}: dead letter of {case.name!r}")
        expects_event = case.dead_letter is None or case.failed_event
        ended = any(is_terminal(e["type"]) for e in seen.events.get(case.job_id or "", []))
        if expects_event and case.job_id is not None and not ended:
            missing.append(f"{record.domain}: terminal event of {case.name!r}")
    return missing


async def _lagging_partitions(settings: KafkaSettings) -> list[str]:
    """Request and retry partitions whose committed offset is behind their end."""
    admin = AIOKafkaAdminClient(**aiokafka_options(settings))
    consumer = AIOKafkaConsumer(**aiokafka_options(settings), enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        behind = []
        for domain in DOMAINS:
            topics = topics_for(domain)
            described = await require_topics(settings, [topics.requests, topics.retry])
            partitions = [TopicPartition(t, p) for t, ps in described.items() for p in ps]
            ends = await consumer.end_offsets(partitions)
            committed = await admin.list_consumer_group_offsets(consumer_group(domain))
            for partition in partitions:
                at = committed[partition].offset if partition in committed else 0
                if at < ends[partition]:
                    behind.append(
                        f"{partition.topic}-{partition.partition}: {at} < {ends[partition]}"
                    )
        return behind
    finally:
        await consumer.stop()
        await admin.close()


async def test_every_hostile_record_ends_in_the_dlq_or_as_a_job_and_no_partition_stalls(
    sim: SimServer, start_worker: StartWorker, fleet_topics: KafkaSettings
) -> None:
    workers: list[WorkerProcess] = [
        start_worker(
            domain,
            api_base_url=sim.base_url,
            api_token=sim.token,
            WORKER_RETRY_DELAYS="[0.5, 0.5]",
            WORKER_COMMIT_INTERVAL_SECONDS="0.2",
        )
        for domain in DOMAINS
    ]
    reader = _Reader(fleet_topics)
    await reader.start()
    try:
        await asyncio.gather(*(worker.wait_ready() for worker in workers))
        started = time.monotonic()
        sent, cases_per_domain = await _publish(fleet_topics, uuid.uuid4().hex[:8])

        deadline = time.monotonic() + SETTLE_SECONDS
        while missing := _missing(sent, reader.seen):
            if time.monotonic() > deadline:
                pytest.fail(f"not accounted for after {SETTLE_SECONDS:g} s: {missing[:10]}")
            await reader.drain()
        while behind := await _lagging_partitions(fleet_topics):
            if time.monotonic() > deadline:
                pytest.fail(f"committed offsets behind after {SETTLE_SECONDS:g} s: {behind}")
            await asyncio.sleep(0.5)
        settled = time.monotonic() - started
        await reader.drain()
    finally:
        await reader.stop()
        for worker in workers:
            worker.signal(signal.SIGTERM)
    for worker in workers:
        assert worker.wait_exit(60) == 0, worker.log_tail()

    outcomes: dict[str, str] = {}
    for record in sent:
        case, job_id = record.case, record.case.job_id
        letters = reader.seen.dead_letters.get((record.topic, record.partition, record.offset), [])
        terminal = {
            e["event_id"]: e
            for e in reader.seen.events.get(job_id or "", [])
            if is_terminal(e["type"])
        }
        if case.dead_letter is None:
            assert not letters, (case.name, letters)
            (event,) = terminal.values()
            assert event["type"] == f"{record.domain}.{case.terminal}", (case.name, event)
        else:
            (letter,) = letters
            assert letter["bria_error_code"] == case.dead_letter, (case.name, letter)
            assert ("bria_truncated" in letter) == case.copy_cut, (case.name, letter)
            if case.failed_event:
                (event,) = terminal.values()
                assert event["type"] == f"{record.domain}.failed", (case.name, event)
                assert event["error"]["code"] == case.dead_letter
            else:
                assert not terminal, (case.name, terminal)
        outcomes[f"{record.domain}: {case.name}"] = case.expectation()

    logs = "\n".join(worker.log_path.read_text(errors="replace") for worker in workers)
    assert "Traceback" not in logs
    assert not [line for line in logs.splitlines() if line.startswith("FORGED-LOG-LINE")]
    hostile = sum(cases_per_domain.values())
    print(
        f"\nhostile records: {hostile} ({cases_per_domain}), valid jobs: {len(sent) - hostile},"
        f" all accounted for and committed in {settled:.1f} s"
    )
    for name, outcome in outcomes.items():
        print(f"  {name:70} {outcome}")
