"""In-memory stand-ins for the runtime's Kafka-backed parts, for tests that need no broker."""

from collections.abc import Mapping, Sequence

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

    async def finish(self, job_id: str, messages: Sequence[OutboundMessage]) -> None:
        self.finished[job_id] = list(messages)
        self.published += messages

    async def publish(self, messages: Sequence[OutboundMessage]) -> None:
        self.published += messages

    async def publish_events(
        self, job_id: str, metadata: Mapping[str, str], specs: Sequence[EventSpec]
    ) -> None:
        self.events += [(job_id, spec) for spec in specs]

    async def put_watch(self, watch: WatchRecord) -> None:
        self.watches.append(watch)

    async def tombstone(self, key: str) -> None:
        self.tombstones.append(key)

    async def forward(
        self, topic: str, key: bytes | None, value: bytes, headers: Mapping[str, str]
    ) -> None:
        self.forwarded.append((topic, key, value, dict(headers)))


class MemoryTable:
    """The part of ``OperationsTable`` the job runner reads, from dicts."""

    def __init__(self) -> None:
        self.finished_jobs: dict[str, FinishedRecord] = {}
        self.watched: dict[str, WatchRecord] = {}

    async def sync(self) -> None:
        pass

    def finished(self, job_id: str) -> FinishedRecord | None:
        return self.finished_jobs.get(job_id)

    def watch_of(self, job_id: str) -> WatchRecord | None:
        return self.watched.get(job_id)

    def fact(self, name: str) -> None:
        return None
