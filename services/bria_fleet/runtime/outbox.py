"""Everything a worker writes to Kafka goes through one producer, and waits for its ack."""

import asyncio
import json
from collections.abc import Mapping, Sequence

from aiokafka import AIOKafkaProducer

from bria_fleet import tracing
from bria_fleet.metrics import KAFKA_WRITE_DURATION
from bria_fleet.runtime.bounds import header_bytes
from bria_fleet.runtime.records import NUDGE_VALUE, OperationRecord, OutboundMessage, WatchRecord


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
    """

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    async def publish(self, messages: Sequence[OutboundMessage]) -> None:
        """Send every message and wait until all are acknowledged."""
        with KAFKA_WRITE_DURATION.labels("messages").time():
            await self._publish(messages)

    async def _publish(self, messages: Sequence[OutboundMessage]) -> None:
        await self._send_all([(messages, encode_headers(tracing.carrier()))])

    async def publish_traced(
        self, groups: Sequence[tuple[Sequence[OutboundMessage], list[tuple[str, bytes]]]]
    ) -> None:
        """Send several jobs' messages, each group with its own trace headers, and wait until
        all are acknowledged (one write, as :meth:`publish`)."""
        with KAFKA_WRITE_DURATION.labels("messages").time():
            await self._send_all(groups)

    async def _send_all(
        self, groups: Sequence[tuple[Sequence[OutboundMessage], list[tuple[str, bytes]]]]
    ) -> None:
        pending = [
            await self._producer.send(
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
            await self._producer.send_and_wait(
                topic, key=record.key.encode(), value=record.model_dump_json().encode()
            )

    async def put_many(self, topic: str, records: Sequence[OperationRecord]) -> None:
        """Write several operations records (not watches) and wait until all are acknowledged."""
        with KAFKA_WRITE_DURATION.labels("record").time():
            pending = [
                await self._producer.send(
                    topic, key=record.key.encode(), value=record.model_dump_json().encode()
                )
                for record in records
            ]
            await asyncio.gather(*pending)

    async def tombstone(self, topic: str, key: str, partition: int | None = None) -> None:
        """Delete ``key`` from a compacted topic (from ``partition``, if it was put there)."""
        with KAFKA_WRITE_DURATION.labels("tombstone").time():
            await self._producer.send_and_wait(
                topic, key=key.encode(), value=None, partition=partition
            )

    async def nudge(self, topic: str, partition: int, key: str) -> None:
        """Write a nudge record into ``partition``, where the watch it names lives."""
        with KAFKA_WRITE_DURATION.labels("nudge").time():
            await self._producer.send_and_wait(
                topic, key=key.encode(), value=NUDGE_VALUE, partition=partition
            )

    async def forward(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Mapping[str, str]
    ) -> None:
        """Send a raw message on (to the retry or dead-letter topic) with extra headers."""
        with KAFKA_WRITE_DURATION.labels("forward").time():
            await self._producer.send_and_wait(
                topic,
                key=key,
                value=value,
                headers=encode_headers({**headers, **tracing.carrier()}),
            )
