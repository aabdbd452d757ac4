"""Assembles one domain's worker process from its parts (docs/architecture.md §3, §4, §7)."""

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.middlewares import AckPolicy
from faststream_concurrent_aiokafka import (
    ConsumerRebalanceListener,
    KafkaConcurrentProcessingMiddleware,
    initialize_concurrent_processing,
    is_kafka_handler_healthy,
    stop_concurrent_processing,
)
from faststream_concurrent_aiokafka.consts import PROCESSING_CONTEXT_KEY
from faststream_concurrent_aiokafka.processing import KafkaConcurrentHandler

from bria_fleet import metrics, tracing
from bria_fleet.api import BriaApi, create_api
from bria_fleet.errors import BriaFleetError
from bria_fleet.kafka_client import aiokafka_options, faststream_security
from bria_fleet.metrics import REGISTRY
from bria_fleet.runtime.backlog import Backlog
from bria_fleet.runtime.bounds import UnwritableRecordError, decode_header
from bria_fleet.runtime.http import http_routes
from bria_fleet.runtime.job_runner import Delivery, JobRunner
from bria_fleet.runtime.journal import Journal
from bria_fleet.runtime.keyed_order import RecordTurns
from bria_fleet.runtime.lag import LagSampler
from bria_fleet.runtime.liveness import PartitionProgress
from bria_fleet.runtime.operations_table import OperationsTable
from bria_fleet.runtime.outbox import Outbox
from bria_fleet.runtime.outcomes import AnyLogic
from bria_fleet.runtime.watcher import Watcher
from bria_fleet.runtime.webhooks import WebhookReceiver
from bria_fleet.runtime.worker_settings import WEBHOOK_PATH, WorkerSettings
from bria_fleet.settings import ApiSettings, KafkaSettings
from bria_fleet.topics_admin import require_topics
from bria_fleet_contracts import Domain, consumer_group, topics_for

logger = logging.getLogger(__name__)

LogicFactory = Callable[[], AnyLogic]


@dataclass
class _Running:
    api: BriaApi
    outbox: Outbox
    table: OperationsTable
    runner: JobRunner[Any]
    watcher: Watcher[Any]


# Kafka waits this much longer than a replica's hand-back for it to rejoin the group.
REJOIN_MARGIN_SECONDS = 15.0

PRODUCER_LINGER_MS = 5
"""How long the producer gathers records into one request (Kafka 4.0's default, KIP-1030):
jobs finishing close together share produce requests, which cost a generation worker a
third less CPU in them at zero latency (py-spy), for 5 ms more per acknowledged write."""


class _AssignmentListener(ConsumerRebalanceListener):
    """Hands revoked partitions back only once their jobs in flight have finished.

    A subclass of faststream-concurrent-aiokafka's listener only so that the library does
    not wrap it in its own, which would commit before the jobs finish.
    """

    def __init__(self, worker: "Worker") -> None:  # the base class's committer is not used
        self._worker = worker

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:  # type: ignore[override]
        await self._worker.partitions_revoked(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:  # type: ignore[override]
        self._worker.partitions_assigned(assigned)


def request_middlewares(domain: Domain, turns: RecordTurns) -> list[Any]:
    """The request subscriber's middlewares, outermost first: the one place they are listed.

    The turn reservation must come before the concurrency middleware (see
    ``runtime.keyed_order``); metrics come after it, so they time the real work. Add new
    per-message middlewares (tracing, ...) after the concurrency middleware.
    """
    return [
        turns.middleware,
        KafkaConcurrentProcessingMiddleware,
        KafkaPrometheusMiddleware(registry=REGISTRY, app_name=f"bria-fleet-{domain}"),
    ]


async def _consumer_record(message: KafkaMessage) -> ConsumerRecord:
    # The handler gets aiokafka's record as is: with ``apply_types=False`` faststream passes
    # the decoded value straight through, with no dependency injection (which resolved a
    # context parameter in a thread pool, per message). Asynchronous on purpose: faststream
    # runs a synchronous decoder in a thread pool too.
    return cast(ConsumerRecord, message.raw_message)


async def _tolerant_parser(
    record: ConsumerRecord, default: Callable[[ConsumerRecord], Awaitable[KafkaMessage]]
) -> KafkaMessage:
    # faststream's parser decodes every header value as UTF-8 and fails (before any handler
    # or middleware) on one that is not, or is null: such a record would be skipped with a
    # traceback. It then gets a readable copy of the headers; the handler still sees the
    # record as it came.
    try:
        return await default(record)
    except (UnicodeDecodeError, AttributeError):
        readable = [
            (name, (value or b"").decode(errors="replace").encode())
            for name, value in record.headers
        ]
        message = await default(dataclasses.replace(record, headers=readable))
        message.raw_message = record
        return message


class Worker:
    """One domain's worker: consumes its requests and retries, watches its operations.

    Offsets are committed by ``faststream-concurrent-aiokafka`` once a job's handler has
    returned, which :class:`JobRunner` does only when the job's outcome is durable; only the
    contiguous finished prefix of each partition is committed.
    """

    def __init__(
        self,
        domain: Domain,
        logic_factory: LogicFactory,
        *,
        kafka: KafkaSettings | None = None,
        api: ApiSettings | None = None,
        settings: WorkerSettings | None = None,
    ) -> None:
        self.domain = domain
        self.topics = topics_for(domain)
        self.kafka = kafka or KafkaSettings()
        self.api_settings = api or ApiSettings()
        self.settings = settings or WorkerSettings()
        self._logic_factory = logic_factory
        self._running: _Running | None = None
        self._assigned_once = False
        self._turns = RecordTurns()
        self._backlog = Backlog(domain)
        self._committing = False
        self._progress = PartitionProgress(
            self.settings.stuck_after(
                self.api_settings.timeout_seconds, self.api_settings.retry_budget_seconds
            )
        )
        metrics.WORKER_READY.labels(domain).set_function(self._ready_now)
        self.broker = self._build_broker()
        self.app = AsgiFastStream(
            self.broker,
            asgi_routes=[
                *http_routes(self._liveness_problem, self._readiness_problem),
                *self._webhook_routes(),
            ],
            lifespan=self._lifespan,
            on_shutdown=[self._drain],
        )

    def _webhook_routes(self) -> list[tuple[str, WebhookReceiver]]:
        if self.settings.webhook_url is None:
            return []
        if self.api_settings.token is None:
            raise BriaFleetError("webhooks are verified with BRIA_API_TOKEN, which is not set")

        def running() -> tuple[OperationsTable, Watcher[Any]] | None:
            current = self._running
            return None if current is None else (current.table, current.watcher)

        return [(WEBHOOK_PATH, WebhookReceiver(self.api_settings.token, running))]

    def _build_broker(self) -> KafkaBroker:
        broker = KafkaBroker(
            self.kafka.bootstrap_servers,
            security=faststream_security(self.kafka),
            client_id=f"{self.settings.client_id}-{self.domain}",
            graceful_timeout=self.settings.graceful_timeout,
            # One line per message received and processed is noise at hundreds of jobs a
            # second; the Prometheus metrics count them. Errors are still logged.
            log_level=logging.DEBUG,
            apply_types=False,
        )
        for middleware in request_middlewares(self.domain, self._turns):
            broker.add_middleware(middleware)
        self.subscriber = broker.subscriber(
            self.topics.requests,
            self.topics.retry,
            group_id=consumer_group(self.domain),
            ack_policy=AckPolicy.MANUAL,
            auto_offset_reset="earliest",
            listener=_AssignmentListener(self),
            # aiokafka waits for the listener before rejoining; the group must wait as long.
            rebalance_timeout_ms=int(
                (self.settings.graceful_timeout + REJOIN_MARGIN_SECONDS) * 1000
            ),
            decoder=_consumer_record,
            parser=_tolerant_parser,
        )
        self.subscriber(self._on_request)
        return broker

    async def _on_request(self, record: ConsumerRecord) -> None:
        turn = self._turns.take(record)
        try:
            running = self._require_running()
        except RuntimeError:
            turn.release()
            raise
        received = self._backlog.received()
        progress = self._progress.started(record.topic, record.partition, record.offset)
        delivery = Delivery(
            value=record.value,
            key=record.key,
            headers={name: decode_header(value) for name, value in record.headers},
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            turn=turn,
        )
        try:
            with tracing.job_span(
                self.domain, record.topic, record.partition, record.offset, record.headers
            ):
                await running.runner.handle(delivery)
        except Exception as error:
            await self._unhandled(running.runner, delivery, error)
        finally:
            self._backlog.finished(received)
            self._progress.finished(progress)

    async def _unhandled(
        self, runner: JobRunner[Any], delivery: Delivery, error: Exception
    ) -> None:
        """No delivery may crash the worker or be dropped: dead-letter what handling broke on."""
        where = f"{delivery.topic}-{delivery.partition}@{delivery.offset}"
        if isinstance(error, UnwritableRecordError):
            logger.error("record %s: an outcome Kafka refuses (%s); dead-lettered", where, error)
        else:
            logger.exception("record %s: unexpected error; dead-lettered", where)
        try:
            await runner.dead_letter_unhandled(delivery, error)
        except Exception as failure:
            logger.error("record %s: could not be dead-lettered either: %r", where, failure)

    def partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        """The request consumer got a new assignment."""
        self._assigned_once = True
        if self._running is not None:
            self._running.runner.partitions_assigned((tp.topic, tp.partition) for tp in assigned)

    async def partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        """The request consumer is about to lose ``revoked``: let their jobs in flight
        finish (within the graceful timeout), hand back those not started, commit.

        So a rebalance (a replica joining or leaving) repeats no API call: the new owners
        start from the first record this replica did not finish. A job still running
        after all that ends here only if the next assignment gives its partition back.
        """
        running = self._running
        if running is None or not revoked:
            return
        timeout = self.settings.graceful_timeout
        partitions = [(tp.topic, tp.partition) for tp in revoked]
        await running.runner.hand_back(partitions, timeout)
        handler: KafkaConcurrentHandler | None = self.broker.context.get(PROCESSING_CONTEXT_KEY)
        if handler is not None and handler.is_running:
            # The margin covers this flush and gone()'s wait for outcome writes (5 s each).
            await handler.committer.commit_all(REJOIN_MARGIN_SECONDS / 3)
            handler.committer.clear_cancellation_watermarks(revoked)
        await running.runner.gone(partitions)

    def _require_running(self) -> _Running:
        if self._running is None:
            raise RuntimeError("the worker received a request before it finished starting")
        return self._running

    @asynccontextmanager
    async def _lifespan(self) -> AsyncIterator[None]:
        options = aiokafka_options(self.kafka)
        logic = self._logic_factory()
        partitions = await require_topics(self.kafka, list(self.topics.all))
        async with AsyncExitStack() as stack:
            if tracing.configure(f"bria-fleet-{self.domain}"):
                stack.callback(tracing.shutdown)
            api = await stack.enter_async_context(create_api(self.api_settings))

            async def new_producer() -> AIOKafkaProducer:
                producer = AIOKafkaProducer(
                    **options,
                    acks="all",
                    enable_idempotence=True,
                    linger_ms=PRODUCER_LINGER_MS,
                    max_request_size=self.settings.max_record_bytes,
                )
                await producer.start()
                return producer

            outbox = await Outbox.start(new_producer)
            stack.push_async_callback(outbox.stop)
            table = OperationsTable(
                AIOKafkaConsumer(**options, enable_auto_commit=False, group_id=None),
                self.topics.operations,
            )
            await table.start(partitions[self.topics.operations])
            stack.push_async_callback(table.stop)
            journal = Journal(self.domain, outbox, self.settings.max_record_bytes)
            runner = JobRunner(self.domain, logic, api, table, journal, self.settings)
            membership = AIOKafkaConsumer(
                **options,
                group_id=f"{consumer_group(self.domain)}-watcher",
                enable_auto_commit=False,
                auto_offset_reset="earliest",
            )
            watcher = Watcher(
                logic,
                runner,
                api,
                table,
                journal,
                membership,
                self.topics.operations,
                self.settings,
            )
            await watcher.start()
            stack.push_async_callback(watcher.stop)
            lag = LagSampler(self.domain, lambda: self.subscriber.consumer)
            lag.start()
            stack.push_async_callback(lag.stop)
            self._running = _Running(api, outbox, table, runner, watcher)
            stack.callback(self._forget_running)
            await initialize_concurrent_processing(
                context=self.broker.context,
                # A job holds one of JobRunner's API slots only while it calls the API; this
                # leaves room for as many again to write their outcome to Kafka meanwhile.
                concurrency_limit=2 * self.settings.concurrency,
                commit_batch_size=self.settings.commit_batch_size,
                commit_batch_timeout_sec=self.settings.commit_interval_seconds,
            )
            self._committing = True
            # faststream connects the broker only after startup has been reported complete,
            # and a failure there leaves the process serving 503s forever. Connecting here
            # (faststream reuses the connection) makes it a failed startup: the process
            # exits and its supervisor restarts it.
            await self.broker.connect()
            yield

    def _forget_running(self) -> None:
        self._running = None

    async def _drain(self) -> None:
        """Stop fetching, let jobs in flight finish within the grace period, commit."""
        consumer = self.subscriber.consumer
        if consumer is not None:
            consumer.pause(*consumer.assignment())
        if self._running is not None:
            self._running.runner.begin_drain()
            try:
                await asyncio.wait_for(self._running.runner.idle(), self.settings.graceful_timeout)
            except TimeoutError:
                logger.warning("jobs still in flight after the grace period are handed back")
        self._committing = False
        await stop_concurrent_processing(self.broker.context)

    async def _liveness_problem(self) -> str | None:
        running = self._running
        if running is None:
            return "starting"
        if not running.table.running:
            return "the operations table reader stopped"
        if not running.watcher.healthy:
            return "the watcher stopped"
        if self._committing and not is_kafka_handler_healthy(self.broker.context):
            return "the offset committer stopped: no partition's offset can move"
        return self._progress.stuck()

    def _ready_now(self) -> float:
        running = self._running
        healthy = running is not None and running.table.running and running.watcher.healthy
        return 1.0 if healthy and self._assigned_once else 0.0

    async def _readiness_problem(self) -> str | None:
        problem = await self._liveness_problem()
        if problem is not None:
            return problem
        if not await self.broker.ping(timeout=2.0):
            return "the Kafka broker does not answer"
        if not self._assigned_once:
            return "waiting for a partition assignment"
        return None
