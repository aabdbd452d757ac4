"""Publishing a request and, if asked, waiting for the event its job ends in.

For people and scripts upstream (``bria-fleet submit``) and for the demo.
"""

import json
import time
from collections.abc import AsyncIterator, Sequence
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


class EventStream:
    """The events of some domains, from the moment ``async with`` returns (or from the start).

    Every partition is positioned before ``__aenter__`` returns, so an event published after
    that is never missed. Iterate it for every event, or wait for one job's terminal event.
    """

    def __init__(
        self, settings: KafkaSettings, domains: Sequence[Domain], *, from_beginning: bool = False
    ) -> None:
        self._settings = settings
        self._topics = [topics_for(domain).events for domain in domains]
        self._from_beginning = from_beginning
        self._consumer = AIOKafkaConsumer(
            **aiokafka_options(settings), enable_auto_commit=False, group_id=None
        )

    async def __aenter__(self) -> "EventStream":
        partitions = await require_topics(self._settings, self._topics)
        await self._consumer.start()
        assigned = [TopicPartition(t, p) for t, numbers in partitions.items() for p in numbers]
        self._consumer.assign(assigned)
        if self._from_beginning:
            await self._consumer.seek_to_beginning(*assigned)
        else:
            await self._consumer.seek_to_end(*assigned)
        for tp in assigned:
            await self._consumer.position(tp)  # resolves the lazy seek now, not at first fetch
        return self

    async def __aexit__(self, *_: object) -> None:
        await self._consumer.stop()

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        while True:
            batches = await self._consumer.getmany(timeout_ms=500)
            for messages in batches.values():
                for message in messages:
                    yield json.loads(message.value)

    async def terminal_event(self, job_id: str, within: float) -> dict[str, Any]:
        """The first terminal event of ``job_id``."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            batches = await self._consumer.getmany(timeout_ms=500)
            for messages in batches.values():
                for message in messages:
                    event: dict[str, Any] = json.loads(message.value)
                    if event.get("job_id") == job_id and is_terminal(event["type"]):
                        return event
        raise JobTimeoutError(
            f"no terminal event for job {job_id!r} within {within:g} s; is the worker running?"
            " (`bria-fleet up` starts one)"
        )
