"""An in-memory view of the whole compacted operations topic (a global KTable)."""

import asyncio
import logging
from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from bria_fleet.runtime.records import (
    CALLING_PREFIX,
    FACT_KEY_PREFIX,
    FINISHED_KEY_PREFIX,
    NUDGE_KEY_PREFIX,
    FactRecord,
    FinishedRecord,
    WatchRecord,
)

logger = logging.getLogger(__name__)

ChangeListener = Callable[[str, int, WatchRecord | None], None]
NudgeListener = Callable[[str, int], None]


class OperationsTable:
    """Reads every partition of one operations topic from the beginning, forever.

    It answers two questions for the request handler — has this job finished, and is it
    being watched — and tells listeners of every change to a watch, with the partition it
    landed in, so the watcher can follow the partitions it owns. Finished records are kept
    as the bytes read and parsed only when asked for: there is one per job, and a request
    handler asks for one only on a redelivery.

    Ordering contract: listeners see changes of one partition in offset order. After
    ``await sync()`` returns, every record acknowledged by Kafka before ``sync`` was called
    has been applied.
    """

    def __init__(self, consumer: AIOKafkaConsumer, topic: str) -> None:
        self._consumer = consumer
        self._topic = topic
        self._watches: dict[str, tuple[int, WatchRecord]] = {}
        # job id -> (partition, record timestamp in epoch seconds, value as read), oldest first
        self._finished: dict[str, tuple[int, float, bytes]] = {}
        self._calling: set[str] = set()  # jobs that were sending a paid generation
        self._watch_by_job: dict[str, str] = {}
        # fact name -> (partition, record timestamp in epoch seconds, record), oldest first
        self._facts: dict[str, tuple[int, float, FactRecord]] = {}
        self._listeners: list[ChangeListener] = []
        self._nudges: dict[str, int] = {}  # watch key -> partition of its nudge record
        self._nudge_listeners: list[NudgeListener] = []
        self._partitions: list[TopicPartition] = []
        self._applied: dict[TopicPartition, int] = {}
        self._reader: asyncio.Task[None] | None = None
        self._progress = asyncio.Condition()

    async def start(self, partitions: Iterable[int]) -> None:
        """Assign the topic's partitions, rewind to the beginning and start reading."""
        await self._consumer.start()
        self._partitions = [TopicPartition(self._topic, p) for p in sorted(partitions)]
        self._consumer.assign(self._partitions)
        await self._consumer.seek_to_beginning(*self._partitions)
        self._reader = asyncio.create_task(self._read_forever(), name=f"table:{self._topic}")

    async def stop(self) -> None:
        """Stop reading and close the consumer."""
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
            self._reader = None
        await self._consumer.stop()

    @property
    def running(self) -> bool:
        """Whether the reader task is alive."""
        return self._reader is not None and not self._reader.done()

    def add_listener(self, listener: ChangeListener) -> None:
        """Call ``listener(key, partition, watch_or_None)`` on every watch change from now on."""
        self._listeners.append(listener)

    def add_nudge_listener(self, listener: NudgeListener) -> None:
        """Call ``listener(watch_key, partition)`` for every nudge read from now on."""
        self._nudge_listeners.append(listener)

    def nudges_in(self, partitions: Iterable[int]) -> list[tuple[int, str]]:
        """The watch keys nudged in ``partitions`` and not yet handled, with the partition."""
        wanted = set(partitions)
        return [(p, key) for key, p in self._nudges.items() if p in wanted]

    def watches_of_target(self, target_id: str) -> list[tuple[int, WatchRecord]]:
        """Every watch following the operation ``target_id`` (an API request id, ...)."""
        return [(p, watch) for p, watch in self._watches.values() if watch.target_id == target_id]

    async def sync(self) -> None:
        """Wait until everything in the topic when this was called has been applied."""
        end_offsets = await self._consumer.end_offsets(self._partitions)
        async with self._progress:
            await self._progress.wait_for(lambda: self._caught_up(end_offsets))

    def finished(self, job_id: str) -> FinishedRecord | None:
        """How ``job_id`` ended, if it has."""
        entry = self._finished.get(job_id)
        return FinishedRecord.model_validate_json(entry[2]) if entry is not None else None

    def calling(self, job_id: str) -> bool:
        """Whether an attempt of ``job_id`` may have sent a paid generation and not finished."""
        return job_id in self._calling

    def finished_before(self, cutoff: float, partitions: Iterable[int]) -> list[str]:
        """Jobs in ``partitions`` that finished before ``cutoff`` (epoch seconds).

        Records arrive about in time order, so this looks only at the oldest ones: one that
        lands a little out of order is found by a later call.
        """
        wanted = set(partitions)
        expired = []
        for job_id, (partition, timestamp, _) in self._finished.items():
            if timestamp >= cutoff:
                break
            if partition in wanted:
                expired.append(job_id)
        return expired

    def fact(self, name: str) -> FactRecord | None:
        """The fact ``name``, if one is recorded."""
        entry = self._facts.get(name)
        return entry[2] if entry is not None else None

    def facts_before(self, cutoff: float, partitions: Iterable[int]) -> list[str]:
        """Facts in ``partitions`` last written before ``cutoff`` (epoch seconds)."""
        wanted = set(partitions)
        expired = []
        for name, (partition, timestamp, _) in self._facts.items():
            if timestamp >= cutoff:
                break
            if partition in wanted:
                expired.append(name)
        return expired

    def watch_of(self, job_id: str) -> WatchRecord | None:
        """The watch following ``job_id``, if one is in flight."""
        key = self._watch_by_job.get(job_id)
        entry = self._watches.get(key) if key else None
        return entry[1] if entry else None

    def watches_in(self, partitions: Iterable[int]) -> list[tuple[int, WatchRecord]]:
        """Every watch stored in the given partitions, with its partition."""
        wanted = set(partitions)
        return [
            (partition, watch) for partition, watch in self._watches.values() if partition in wanted
        ]

    def _caught_up(self, end_offsets: dict[TopicPartition, int]) -> bool:
        return all(self._applied.get(tp, 0) >= end for tp, end in end_offsets.items())

    async def _read_forever(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=500)
            for tp, messages in batches.items():
                for message in messages:
                    self._apply(message.key, message.value, tp.partition, message.timestamp)
            # The position is the offset after the last record handed to us, applied above.
            for tp in self._partitions:
                self._applied[tp] = await self._consumer.position(tp)
            async with self._progress:
                self._progress.notify_all()

    def _apply(
        self, raw_key: bytes | None, raw_value: bytes | None, partition: int, timestamp_ms: int
    ) -> None:
        if raw_key is None:
            return
        key = raw_key.decode()
        if key.startswith(FINISHED_KEY_PREFIX):
            job_id = key.removeprefix(FINISHED_KEY_PREFIX)
            self._finished.pop(job_id, None)
            self._calling.discard(job_id)
            if raw_value is not None and raw_value.startswith(CALLING_PREFIX):
                self._calling.add(job_id)
            elif raw_value is not None:
                self._finished[job_id] = (partition, timestamp_ms / 1000, raw_value)
            return
        if key.startswith(FACT_KEY_PREFIX):
            self._apply_fact(key.removeprefix(FACT_KEY_PREFIX), raw_value, partition, timestamp_ms)
            return
        if key.startswith(NUDGE_KEY_PREFIX):
            watch_key = key.removeprefix(NUDGE_KEY_PREFIX)
            self._nudges.pop(watch_key, None)
            if raw_value is not None:
                self._nudges[watch_key] = partition
                for nudged in self._nudge_listeners:
                    nudged(watch_key, partition)
            return
        if raw_value is None:
            self._forget(key)
            self._notify(key, partition, None)
            return
        try:
            watch = WatchRecord.model_validate_json(raw_value)
        except ValidationError as error:
            logger.warning("skipping unreadable operations record %r: %s", key, error)
            return
        self._forget(key)
        self._watches[key] = (partition, watch)
        self._watch_by_job[watch.job_id] = key
        self._notify(key, partition, watch)

    def _apply_fact(
        self, name: str, raw_value: bytes | None, partition: int, timestamp_ms: int
    ) -> None:
        self._facts.pop(name, None)
        if raw_value is None:
            return
        try:
            fact = FactRecord.model_validate_json(raw_value)
        except ValidationError as error:
            logger.warning("skipping unreadable fact %r: %s", name, error)
            return
        self._facts[name] = (partition, timestamp_ms / 1000, fact)

    def _forget(self, key: str) -> None:
        entry = self._watches.pop(key, None)
        if entry is not None:
            self._watch_by_job.pop(entry[1].job_id, None)

    def _notify(self, key: str, partition: int, watch: WatchRecord | None) -> None:
        for listener in self._listeners:
            listener(key, partition, watch)
