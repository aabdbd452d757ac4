"""The journal: every durable outcome write of a worker, in one place.

The job runner and the watcher write what a job did through it (the finished record, events
and follow-ups, watch records, facts, tombstones, retry and dead-letter copies); each write
returns only once Kafka has acknowledged it.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import ParamSpec

from aiokafka.errors import KafkaError
from pydantic import JsonValue
from tenacity import AsyncRetrying, retry_if_exception, wait_exponential_jitter

from bria_fleet.errors import FailureError
from bria_fleet.runtime.bounds import (
    HEADER_ROOM,
    TRUNCATED,
    UNWRITABLE_ERRORS,
    UnwritableRecordError,
    fit_copy,
    record_size,
)
from bria_fleet.runtime.events import event_message, failure_message
from bria_fleet.runtime.group_commit import FinishGroups
from bria_fleet.runtime.outbox import Outbox, encoded_value
from bria_fleet.runtime.outcomes import EventSpec
from bria_fleet.runtime.records import (
    CallingRecord,
    FactRecord,
    FinishedRecord,
    OutboundMessage,
    WatchRecord,
    fact_key,
    finished_key,
    nudge_key,
)
from bria_fleet_contracts import Domain, topics_for

logger = logging.getLogger(__name__)

P = ParamSpec("P")

DEFAULT_MAX_RECORD_BYTES = 1024 * 1024


def _retriable(error: BaseException) -> bool:
    return isinstance(error, KafkaError) and not isinstance(error, UNWRITABLE_ERRORS)


class Journal:
    """Durable writes of one domain's outcomes to Kafka.

    Ordering contract: each method returns only once its write is acknowledged, so writes
    awaited one after the other land in that order; :meth:`finish` writes the finished
    record before the messages, so a redelivery re-emits them instead of calling the API
    again even if the process dies in between.
    """

    def __init__(
        self, domain: Domain, outbox: Outbox, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    ) -> None:
        self._domain = domain
        self._topics = topics_for(domain)
        self._outbox = outbox
        self._max_record_bytes = max_record_bytes
        self._finishing = FinishGroups(outbox, self._topics.operations)

    async def finish(self, job_id: str, messages: Sequence[OutboundMessage]) -> None:
        """Record how ``job_id`` ended, then publish its messages.

        Jobs finishing at about the same time share these two writes (group commit: see
        ``runtime.group_commit``); the order for each job stays the finished record first.
        An outcome too large for Kafka (its record or one of its messages) is replaced by a
        short ``<domain>.failed`` event with code ``output_too_large``, never retried.
        """
        record = FinishedRecord(job_id=job_id, messages=list(messages))
        problem = self._oversized(record)
        if problem is None:
            try:
                await self._durably(self._finishing.finish, record, messages)
                return
            except UnwritableRecordError:
                pass  # perhaps another job's outcome in the group: this one is tried alone
            try:
                await self._durably(self._outbox.put, self._topics.operations, record)
                await self.publish(messages)
                return
            except UnwritableRecordError as error:
                problem = str(error)
        logger.warning("job %s: outcome too large for Kafka (%s); failing it", job_id, problem)
        summary = [self._too_large_failure(job_id, problem)]
        await self._durably(
            self._outbox.put,
            self._topics.operations,
            FinishedRecord(job_id=job_id, messages=summary),
        )
        await self.publish(summary)

    def _oversized(self, record: FinishedRecord) -> str | None:
        """Why ``record`` or one of its messages would exceed the size limit, or ``None``."""
        limit = self._max_record_bytes - HEADER_ROOM
        size = len(record.model_dump_json().encode())
        # A published message is at most 3 times its share of the record (ASCII escapes).
        if 3 * size <= limit:
            return None
        if size > limit:
            return f"the finished record is {size} bytes, over {limit}"
        for message in record.messages:
            value = encoded_value(message)
            encoded = record_size(message.key.encode(), value, message.headers)
            if encoded > limit:
                return f"a message to {message.topic} is {encoded} bytes, over {limit}"
        return None

    def _too_large_failure(self, job_id: str, problem: str) -> OutboundMessage:
        error = FailureError(
            f"the job's outcome is too large for Kafka ({problem})", code="output_too_large"
        )
        return failure_message(self._domain, job_id, {}, error)

    async def mark_calling(self, job_id: str) -> None:
        """Record that ``job_id`` is about to send a paid generation (until it finishes)."""
        await self._durably(self._outbox.put, self._topics.operations, CallingRecord(job_id=job_id))

    async def unmark_calling(self, job_id: str) -> None:
        """Forget the calling marker of ``job_id``, which did not finish and will run again."""
        await self.tombstone(finished_key(job_id))

    async def publish(self, messages: Sequence[OutboundMessage]) -> None:
        """Publish ``messages`` (events, follow-ups)."""
        await self._durably(self._outbox.publish, messages)

    async def publish_events(
        self, job_id: str, metadata: Mapping[str, str], specs: Sequence[EventSpec]
    ) -> None:
        """Publish non-terminal events of ``job_id`` (progress, status changes)."""
        await self.publish([event_message(self._domain, s, job_id, metadata) for s in specs])

    async def put_watch(self, watch: WatchRecord) -> None:
        """Write a watch's (new) state to the operations topic."""
        await self._durably(self._outbox.put, self._topics.operations, watch)

    async def put_fact(self, name: str, value: Mapping[str, JsonValue]) -> None:
        """Write a fact to the operations topic."""
        record = FactRecord(name=name, value=dict(value))
        await self._durably(self._outbox.put, self._topics.operations, record)

    async def delete_fact(self, name: str) -> None:
        """Delete a fact from the operations topic."""
        await self.tombstone(fact_key(name))

    async def tombstone(self, key: str) -> None:
        """Delete an operations record."""
        await self._durably(self._outbox.tombstone, self._topics.operations, key)

    async def nudge(self, watch_key: str, partition: int) -> None:
        """Have the owner of ``partition`` poll ``watch_key`` now: a nudge record there.

        Not retried: a nudge is a hint (polling finishes the watch anyway), and the webhook
        that asked for it is delivered again when this fails.
        """
        await self._outbox.nudge(self._topics.operations, partition, nudge_key(watch_key))

    async def delete_nudge(self, watch_key: str, partition: int) -> None:
        """Delete the nudge of ``watch_key`` from the partition it was written to."""
        await self._outbox.tombstone(self._topics.operations, nudge_key(watch_key), partition)

    async def forward(
        self, topic: str, key: bytes | None, value: bytes | None, headers: Mapping[str, str]
    ) -> None:
        """Send a request on as it came, with ``headers`` (to the retry or dead-letter topic).

        A copy too large for Kafka is cut to fit (``bounds.fit_copy``); one the broker still
        refuses goes without its value, saying so in ``bria_truncated``.
        """
        key, value, fitted = fit_copy(key, value, headers, self._max_record_bytes)
        try:
            await self._durably(self._outbox.forward, topic, key, value, fitted)
        except UnwritableRecordError as error:
            bare = fit_copy(key, None, fitted, self._max_record_bytes // 4)[2]
            bare[TRUNCATED] = f"value dropped: Kafka refused the copy ({error})"
            # Kafka needs a key or a value; the key was already cut short.
            await self._durably(self._outbox.forward, topic, key or b"-", None, bare)

    @staticmethod
    async def _durably(
        operation: Callable[P, Awaitable[None]], *args: P.args, **kwargs: P.kwargs
    ) -> None:
        """Retry a Kafka write until it is acknowledged; only cancellation stops trying.

        Returning before the write is durable would let the offset be committed past a
        request whose outcome was lost. The first try runs bare: a retry loop costs more
        CPU than the write, and most writes succeed at once. A record Kafka refuses as too
        large raises :class:`UnwritableRecordError` at once: no retry would change the answer.
        """
        try:
            try:
                await operation(*args, **kwargs)
                return
            except KafkaError as error:
                if not _retriable(error):
                    raise
                logger.warning("Kafka write failed (%s); retrying until it succeeds", error)
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(_retriable),
                wait=wait_exponential_jitter(multiplier=0.2, max=5.0),
                reraise=True,
            ):
                with attempt:
                    await operation(*args, **kwargs)
        except UNWRITABLE_ERRORS as error:
            raise UnwritableRecordError(str(error)) from None
