"""In-memory stand-ins for the runtime's Kafka-backed parts, for tests that need no broker."""

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence

from pydantic import JsonValue

from bria_fleet.runtime.outcomes import EventSpec
from bria_fleet.runtime.records import FinishedRecord, OutboundMessage, WatchRecord


class MemoryFacts:
    """``runtime.outcomes.Facts`` in a dict; share one between two logics to play two replicas."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, JsonValue]] = {}

    async def get(self, name: str) -> Mapping[str, JsonValue] | None:
        """The fact, if written."""
        return self.values.get(name)

    async def put(self, name: str, value: Mapping[str, JsonValue]) -> None:
        """Write the fact."""
        self.values[name] = dict(value)

    async def delete(self, name: str) -> None:
        """Forget the fact."""
        self.values.pop(name, None)


class MemoryJournal:
    """``runtime.journal.Journal`` that keeps every write in lists instead of Kafka."""

    def __init__(self) -> None:
        self.finished: dict[str, list[OutboundMessage]] = {}
        self.published: list[OutboundMessage] = []
        self.events: list[tuple[str, EventSpec]] = []
        self.watches: list[WatchRecord] = []
        self.forwarded: list[tuple[str, bytes | None, bytes, dict[str, str]]] = []
        self.tombstones: list[str] = []
        self.tombstoned = asyncio.Event()
        self.nudged: list[tuple[str, int]] = []
        self.deleted_nudges: list[tuple[str, int]] = []
        self.calling: list[str] = []  # jobs marked as sending a paid generation, in order
        self.uncalled: list[str] = []  # jobs whose marker was withdrawn

    async def finish(self, job_id: str, messages: Sequence[OutboundMessage]) -> None:
        self.finished[job_id] = list(messages)
        self.published += messages

    async def publish(self, messages: Sequence[OutboundMessage]) -> None:
        self.published += messages

    async def mark_calling(self, job_id: str) -> None:
        self.calling.append(job_id)

    async def unmark_calling(self, job_id: str) -> None:
        self.uncalled.append(job_id)

    async def publish_events(
        self, job_id: str, metadata: Mapping[str, str], specs: Sequence[EventSpec]
    ) -> None:
        self.events += [(job_id, spec) for spec in specs]

    async def put_watch(self, watch: WatchRecord) -> None:
        self.watches.append(watch)

    async def tombstone(self, key: str) -> None:
        self.tombstones.append(key)
        self.tombstoned.set()

    async def nudge(self, watch_key: str, partition: int) -> None:
        self.nudged.append((watch_key, partition))

    async def delete_nudge(self, watch_key: str, partition: int) -> None:
        self.deleted_nudges.append((watch_key, partition))

    async def forward(
        self, topic: str, key: bytes | None, value: bytes, headers: Mapping[str, str]
    ) -> None:
        self.forwarded.append((topic, key, value, dict(headers)))


class MemoryTable:
    """The part of ``OperationsTable`` the job runner reads, from dicts."""

    def __init__(self) -> None:
        self.finished_jobs: dict[str, FinishedRecord] = {}
        self.watched: dict[str, WatchRecord] = {}
        self.calling_jobs: set[str] = set()

    async def sync(self) -> None:
        pass

    def finished(self, job_id: str) -> FinishedRecord | None:
        return self.finished_jobs.get(job_id)

    def watch_of(self, job_id: str) -> WatchRecord | None:
        return self.watched.get(job_id)

    def calling(self, job_id: str) -> bool:
        return job_id in self.calling_jobs

    def fact(self, name: str) -> None:
        return None


class MemoryWatchTable(MemoryTable):
    """The part of ``OperationsTable`` the watcher reads: every watch in partition 0."""

    def __init__(self) -> None:
        super().__init__()
        self.listeners: list[Callable[[str, int, WatchRecord | None], None]] = []
        self.nudge_listeners: list[Callable[[str, int], None]] = []
        self.nudges: dict[str, int] = {}

    def add_listener(self, listener: Callable[[str, int, WatchRecord | None], None]) -> None:
        self.listeners.append(listener)

    def add_nudge_listener(self, listener: Callable[[str, int], None]) -> None:
        self.nudge_listeners.append(listener)

    def nudges_in(self, partitions: Iterable[int]) -> list[tuple[int, str]]:
        wanted = set(partitions)
        return [(p, key) for key, p in self.nudges.items() if p in wanted]

    def watches_of_target(self, target_id: str) -> list[tuple[int, WatchRecord]]:
        return [(0, w) for w in self.watched.values() if w.target_id == target_id]

    def nudge(self, watch_key: str) -> None:
        """A nudge record read from partition 0, as another replica would write it."""
        self.nudges[watch_key] = 0
        for listener in self.nudge_listeners:
            listener(watch_key, 0)

    def watches_in(self, partitions: Iterable[int]) -> list[tuple[int, WatchRecord]]:
        return [(0, watch) for watch in self.watched.values()] if 0 in set(partitions) else []

    def finished_before(self, cutoff: float, partitions: Iterable[int]) -> list[str]:
        return []

    def facts_before(self, cutoff: float, partitions: Iterable[int]) -> list[str]:
        return []


class IdleMembership:
    """An ownership consumer whose group never rebalances: it owns what it is told to adopt."""

    def subscribe(self, topics: list[str], listener: object) -> None:
        pass

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    def pause(self, *partitions: object) -> None:
        pass

    async def getmany(self, timeout_ms: int) -> dict[object, list[object]]:
        await asyncio.sleep(timeout_ms / 1000)
        return {}
