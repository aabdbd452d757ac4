"""Publishing a request and, if asked, waiting for the event its job ends in.

For people and scripts upstream (``bria-fleet submit``) and for the demo.
"""

import json
import time
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bria_fleet.errors import BriaFleetError
from bria_fleet.kafka_client import aiokafka_options
from bria_fleet.settings import KafkaSettings
from bria_fleet.topics_admin import require_topics
from bria_fleet_contracts import Domain, is_terminal, parse_request, topics_for


class JobTimeoutError(BriaFleetError):
    """No terminal event arrived in time."""


def validated(domain: Domain, raw: bytes) -> dict[str, Any]:
    """The request as it will be published, after the contract accepted it.

    Raises ``InvalidRequest`` with a readable reason otherwise.
    """
    request = parse_request(domain, raw)
    body: dict[str, Any] = request.model_dump(mode="json", exclude_none=True)
    return body


async def publish(settings: KafkaSettings, domain: Domain, request: dict[str, Any]) -> None:
    """Publish a validated request to the domain's requests topic, keyed by its job id."""
    producer = AIOKafkaProducer(**aiokafka_options(settings), acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            topics_for(domain).requests,
            json.dumps(request).encode(),
            key=str(request["job_id"]).encode(),
        )
    finally:
        await producer.stop()


async def follow_events(
    settings: KafkaSettings, domains: Sequence[Domain], *, from_beginning: bool = False
) -> AsyncGenerator[dict[str, Any], None]:
    """Every event of ``domains`` from now on (or from the start of the topics), as it comes."""
    topics = [topics_for(domain).events for domain in domains]
    partitions = await require_topics(settings, topics)
    consumer = AIOKafkaConsumer(**aiokafka_options(settings), enable_auto_commit=False)
    await consumer.start()
    try:
        assigned = [TopicPartition(t, p) for t, numbers in partitions.items() for p in numbers]
        consumer.assign(assigned)
        if from_beginning:
            await consumer.seek_to_beginning(*assigned)
        else:
            await consumer.seek_to_end(*assigned)
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            for messages in batches.values():
                for message in messages:
                    yield json.loads(message.value)
    finally:
        await consumer.stop()


class EventWaiter:
    """Reads a domain's events from the moment it starts, for jobs published after that."""

    def __init__(self, settings: KafkaSettings, domain: Domain) -> None:
        self._settings = settings
        self._topic = topics_for(domain).events
        self._consumer = AIOKafkaConsumer(
            **aiokafka_options(settings), enable_auto_commit=False, group_id=None
        )

    async def __aenter__(self) -> "EventWaiter":
        partitions = (await require_topics(self._settings, [self._topic]))[self._topic]
        await self._consumer.start()
        assigned = [TopicPartition(self._topic, p) for p in partitions]
        self._consumer.assign(assigned)
        await self._consumer.seek_to_end(*assigned)
        for tp in assigned:
            await self._consumer.position(tp)
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._consumer.stop()

    async def terminal_event(
        self, job_id: str, within: float, on_event: Any = None
    ) -> dict[str, Any]:
        """The first terminal event of ``job_id``; ``on_event(event)`` sees every event."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            batches = await self._consumer.getmany(timeout_ms=500)
            for messages in batches.values():
                for message in messages:
                    event: dict[str, Any] = json.loads(message.value)
                    if event.get("job_id") != job_id:
                        continue
                    if on_event is not None:
                        on_event(event)
                    if is_terminal(event["type"]):
                        return event
        raise JobTimeoutError(
            f"no terminal event for job {job_id!r} within {within:g} s; is the worker running?"
            " (`bria-fleet up` starts one)"
        )
