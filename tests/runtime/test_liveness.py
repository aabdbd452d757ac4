"""/healthz fails when a partition makes no progress for longer than any job may take."""

from typing import Any, cast

import httpx
from aiokafka import ConsumerRecord
from faststream.kafka.message import KafkaAckableMessage
from faststream.kafka.parser import AioKafkaParser
from faststream_concurrent_aiokafka.consts import PROCESSING_CONTEXT_KEY

from bria_fleet.runtime.domain_worker import Worker, _tolerant_parser
from bria_fleet.runtime.http import http_routes
from bria_fleet.runtime.liveness import PartitionProgress
from bria_fleet.runtime.worker_settings import WorkerSettings


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_partition_whose_oldest_delivery_outlives_the_limit_is_stuck() -> None:
    clock = _Clock()
    progress = PartitionProgress(stuck_after=60.0, clock=clock)
    first = progress.started("bria.generation.requests", 2, 17)
    clock.now += 30
    progress.started("bria.generation.requests", 2, 18)
    assert progress.stuck() is None
    clock.now += 31
    reason = progress.stuck()
    assert reason is not None
    assert "bria.generation.requests-2" in reason
    assert "offset 17" in reason
    progress.finished(first)
    assert progress.stuck() is None  # offset 18 has been in flight only 31 s


def test_a_partition_with_nothing_in_flight_is_never_stuck() -> None:
    clock = _Clock()
    progress = PartitionProgress(stuck_after=1.0, clock=clock)
    progress.finished(progress.started("t", 0, 1))
    clock.now += 3600
    assert progress.stuck() is None


async def test_the_liveness_route_answers_503_with_the_reason() -> None:
    clock = _Clock()
    progress = PartitionProgress(stuck_after=5.0, clock=clock)
    progress.started("bria.ingest.requests", 0, 3)
    clock.now += 10

    async def liveness() -> str | None:
        return progress.stuck()

    async def ready() -> str | None:
        return None

    routes = dict(http_routes(liveness, ready))
    transport = httpx.ASGITransport(app=routes["/healthz"])
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
        response = await client.get("/healthz")
    assert response.status_code == 503
    assert "bria.ingest.requests-0 has made no progress" in response.text


def _record(headers: list[tuple[str, bytes | None]]) -> ConsumerRecord:
    return ConsumerRecord(
        topic="bria.generation.requests",
        partition=0,
        offset=5,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=b"{}",
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=2,
        headers=headers,
    )


async def test_a_header_that_is_not_utf8_or_null_does_not_stop_faststreams_parser() -> None:
    default = AioKafkaParser(msg_class=KafkaAckableMessage, regex=None).parse_message
    record = _record([("x-bad", b"\xff\xfe"), ("x-null", None), ("ok", b"yes")])
    message = await _tolerant_parser(record, default)
    assert message.raw_message is record
    assert message.headers["ok"] == "yes"
    assert message.headers["x-bad"] == "\ufffd\ufffd"


class _Healthy:
    running = True
    healthy = True


class _Running:
    table = _Healthy()
    watcher = _Healthy()


class _Handler:
    def __init__(self, healthy: bool) -> None:
        self.is_healthy = healthy


async def test_a_worker_is_unhealthy_when_its_offset_committer_or_a_partition_is_stuck() -> None:
    settings = WorkerSettings(stuck_after_seconds=60.0)
    worker = Worker("generation", lambda: cast(Any, None), settings=settings)
    worker._running = cast(Any, _Running())
    clock = _Clock()
    worker._progress = PartitionProgress(60.0, clock=clock)
    worker._committing = True
    worker.broker.context.set_global(PROCESSING_CONTEXT_KEY, _Handler(healthy=True))
    assert await worker._liveness_problem() is None

    worker.broker.context.set_global(PROCESSING_CONTEXT_KEY, _Handler(healthy=False))
    assert "offset committer stopped" in str(await worker._liveness_problem())

    worker.broker.context.set_global(PROCESSING_CONTEXT_KEY, _Handler(healthy=True))
    worker._progress.started("bria.generation.requests", 1, 40)
    clock.now += 61
    assert "bria.generation.requests-1" in str(await worker._liveness_problem())
