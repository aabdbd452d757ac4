"""Everything a worker writes to Kafka goes through one producer, and waits for its ack."""

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from aiokafka import AIOKafkaProducer
from aiokafka.errors import OutOfOrderSequenceNumber, ProducerFenced

from bria_fleet import tracing
from bria_fleet.metrics import KAFKA_WRITE_DURATION
from bria_fleet.runtime.bounds import header_bytes
from bria_fleet.runtime.records import NUDGE_VALUE, OperationRecord, OutboundMessage, WatchRecord

logger = logging.getLogger(__name__)

T = TypeVar("T")
ProducerFactory = Callable[[], Awaitable[AIOKafkaProducer]]

# After these an idempotent producer's sender has stopped for good: every later send fails
# with the same error (seen when the broker restarts with writes in flight).
FATAL_PRODUCER_ERRORS = (OutOfOrderSequenceNumber, ProducerFenced)


def encode_headers(headers: Mapping[str, str]) -> list[tuple[str, bytes]]:
    """Kafka header values are bytes; ours are UTF-8 text (see ``bounds.header_bytes``)."""
    return [(name, header_bytes(value)) for name, value in headers.items()]


def encoded_value(message: OutboundMessage) -> bytes:
    """A message's value as published."""
    return json.dumps(message.value, separators=(",", ":")).encode()


class Outbox:
    """Publishes messages and operations records, returning only once Kafka acknowledged them.

    Ordering contract: messages given to one :meth:`publish` call that share a topic and key
    land in the order given; separate calls are ordered only if the first was awaited.

    With ``renew``, a producer that failed for good (:data:`FATAL_PRODUCER_ERRORS`) is
    replaced by a new one from it; the failed write still raises, and is retried by its
    caller on the new producer.
    """

    def __init__(self, producer: AIOKafkaProducer, renew: ProducerFactory | None = None) -> None:
        self._producer = producer
        self._renew = renew
        self._renewing = asyncio.Lock()

    @classmethod
    async def start(cls, factory: ProducerFactory) -> "Outbox":
        """An outbox on a producer from ``factory``, renewed from it when it fails for good."""
        return cls(await factory(), renew=factory)

    async def stop(self) -> None:
        """Stop the current producer."""
        await self._producer.stop()

    async def _write(self, write: Callable[[AIOKafkaProducer], Awaitable[T]]) -> T:
        producer = self._producer
        try:
            return await write(producer)
        except FATAL_PRODUCER_ERRORS as error:
            await self._replace(producer, error)
            raise

    async def _replace(self, failed: AIOKafkaProducer, error: Exception) -> None:
        async with self._renewing:
            if self._renew is None or self._producer is not failed:
                return
            logger.warning("the Kafka producer failed for good (%s); a new one takes over", error)
            self._producer = await self._renew()
            with contextlib.suppress(Exception):
                await failed.stop()

    async def publish(self, messages: Sequence[OutboundMessage]) -> None:
        """Send every message and wait until all are acknowledged."""
        with KAFKA_WRITE_DURATION.labels("messages").time():
            await self._write(lambda producer: self._publish(producer, messages))

    async def _publish(
        self, producer: AIOKafkaProducer, messages: Sequence[OutboundMessage]
    ) -> None:
        await self._send_all(producer, [(messages, encode_headers(tracing.carrier()))])

    async def publish_traced(
        self, groups: Sequence[tuple[Sequence[OutboundMessage], list[tuple[str, bytes]]]]
    ) -> None:
        """Send several jobs' messages, each group with its own trace headers, and wait until
        all are acknowledged (one write, as :meth:`publish`)."""
        with KAFKA_WRITE_DURATION.labels("messages").time():
            await self._write(lambda producer: self._send_all(producer, groups))

    async def _send_all(
        self,
        producer: AIOKafkaProducer,
        groups: Sequence[tuple[Sequence[OutboundMessage], list[tuple[str, bytes]]]],
    ) -> None:
        pending = [
            await producer.send(
                message.topic,
                key=message.key.encode(),
                value=encoded_value(message),
                headers=encode_headers(message.headers) + trace_headers,
            )
            for messages, trace_headers in groups
            for message in messages
        ]
        await asyncio.gather(*pending)

    async def put(self, topic: str, record: OperationRecord) -> None:
        """Write an operations record under its key (a new watch keeps the trace it began in)."""
        if isinstance(record, WatchRecord) and not record.trace_context and tracing.enabled():
            record = record.model_copy(update={"trace_context": tracing.carrier()})
        with KAFKA_WRITE_DURATION.labels("record").time():
            value = record.model_dump_json().encode()
            await self._write(
                lambda producer: producer.send_and_wait(topic, key=record.key.encode(), value=value)
            )

    async def put_many(self, topic: str, records: Sequence[OperationRecord]) -> None:
        """Write several operations records (not watches) and wait until all are acknowledged."""
        with KAFKA_WRITE_DURATION.labels("record").time():
            await self._write(lambda producer: self._put_all(producer, topic, records))

    @staticmethod
    async def _put_all(
        producer: AIOKafkaProducer, topic: str, records: Sequence[OperationRecord]
    ) -> None:
        pending = [
            await producer.send(
                topic, key=record.key.encode(), value=record.model_dump_json().encode()
            )
            for record in records
        ]
        await asyncio.gather(*pending)

    async def tombstone(self, topic: str, key: str, partition: int | None = None) -> None:
        """Delete ``key`` from a compacted topic (from ``partition``, if it was put there)."""
        with KAFKA_WRITE_DURATION.labels("tombstone").time():
            await self._write(
                lambda producer: producer.send_and_wait(
                    topic, key=key.encode(), value=None, partition=partition
                )
            )

    async def nudge(self, topic: str, partition: int, key: str) -> None:
        """Write a nudge record into ``partition``, where the watch it names lives."""
        with KAFKA_WRITE_DURATION.labels("nudge").time():
            await self._write(
                lambda producer: producer.send_and_wait(
                    topic, key=key.encode(), value=NUDGE_VALUE, partition=partition
                )
            )

    async def forward(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Mapping[str, str]
    ) -> None:
        """Send a raw message on (to the retry or dead-letter topic) with extra headers."""
        with KAFKA_WRITE_DURATION.labels("forward").time():
            extra = encode_headers({**headers, **tracing.carrier()})
            await self._write(
                lambda producer: producer.send_and_wait(topic, key=key, value=value, headers=extra)
            )
