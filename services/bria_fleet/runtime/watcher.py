"""Follows long operations to their end (docs/architecture.md §4).

The watch set is the compacted operations topic. A consumer group on that topic decides which
process owns which partition; the owner polls the watches stored there, and on a terminal
status finishes the job (records it, publishes its events), then tombstones the watch.
"""

import asyncio
import contextlib
import heapq
import itertools
import logging
import random
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Generic

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from bria_fleet import metrics, tracing
from bria_fleet.api import BriaApi, BriaApiError
from bria_fleet.errors import FailureError
from bria_fleet.runtime.facts import TableFacts
from bria_fleet.runtime.job_runner import JobRunner
from bria_fleet.runtime.journal import Journal
from bria_fleet.runtime.operations_table import OperationsTable
from bria_fleet.runtime.outcomes import (
    Completed,
    DomainLogic,
    JobError,
    PollInput,
    RequestT,
    StillRunning,
)
from bria_fleet.runtime.records import WatchRecord, fact_key, finished_key, utcnow
from bria_fleet.runtime.worker_settings import WorkerSettings

logger = logging.getLogger(__name__)


@dataclass
class _Scheduled(Generic[RequestT]):
    watch: WatchRecord
    partition: int
    due: float
    polling: bool = False
    poll_again: bool = False  # nudged while a poll was in flight
    finished: bool = False  # the job's end is recorded; only the watch is left to remove
    request: RequestT | None = None  # parsed from the watch once, on its first poll


class _Ownership(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, watcher: "Watcher[Any]") -> None:
        self._watcher = watcher

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        self._watcher.release({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self._watcher.adopt({tp.partition for tp in assigned})


class Watcher(Generic[RequestT]):
    """Polls every watch in the operations partitions this process owns.

    Ordering contract: at most one poll of a watch is in flight at a time; a watch is polled
    again only after the previous poll's outcome (state write-back or terminal events) is
    durable in Kafka. The next poll is due the policy's delay after the previous one was
    due (or at once, if that has passed).
    """

    def __init__(
        self,
        logic: DomainLogic[RequestT],
        runner: JobRunner[RequestT],
        api: BriaApi,
        table: OperationsTable,
        journal: Journal,
        membership: AIOKafkaConsumer,
        operations_topic: str,
        settings: WorkerSettings,
    ) -> None:
        self._logic = logic
        self._runner = runner
        self._api = api
        self._table = table
        self._journal = journal
        self._facts = TableFacts(table, journal)
        self._membership = membership
        self._topic = operations_topic
        self._settings = settings
        self._owned: set[int] = set()
        self._scheduled: dict[str, _Scheduled[RequestT]] = {}
        self._counts: Counter[str] = Counter()  # scheduled watches by kind, for the gauge
        self._heap: list[tuple[float, int, str]] = []
        self._sequence = itertools.count()
        self._wake = asyncio.Event()
        self._poll_slots = asyncio.Semaphore(settings.max_concurrent_polls)
        self._tasks: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []
        self._random = random.Random()
        table.add_listener(self._on_table_change)
        table.add_nudge_listener(self._on_nudge)

    async def start(self) -> None:
        """Join the ownership group and start scheduling."""
        self._membership.subscribe([self._topic], listener=_Ownership(self))
        await self._membership.start()
        self._loops = [
            self._spawn(self._keep_membership(), "watcher-membership"),
            self._spawn(self._schedule_forever(), "watcher-scheduler"),
            self._spawn(self._forget_finished_forever(), "watcher-forget-finished"),
        ]

    async def stop(self) -> None:
        """Stop polling (polls in flight are cancelled and will be repeated by the next owner)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._membership.stop()

    @property
    def owned_partitions(self) -> frozenset[int]:
        """The operations partitions this process watches now."""
        return frozenset(self._owned)

    @property
    def healthy(self) -> bool:
        """Whether the membership and scheduler loops are alive."""
        return bool(self._loops) and all(not loop.done() for loop in self._loops)

    async def adopt(self, partitions: set[int]) -> None:
        """Take over the watches of newly assigned partitions."""
        self._membership.pause(*(TopicPartition(self._topic, p) for p in partitions))
        await self._table.sync()
        self._owned |= partitions
        for partition, watch in self._table.watches_in(partitions):
            self._schedule(watch, partition, adopted=True)
        for partition, watch_key in self._table.nudges_in(partitions):
            self._on_nudge(watch_key, partition)
        self._update_gauges()

    def poll_now(self, key: str) -> bool:
        """Poll the watch ``key`` at once (after the poll in flight, if any); ``False`` if
        this process does not watch it."""
        entry = self._scheduled.get(key)
        if entry is None:
            return False
        if entry.polling:
            entry.poll_again = True
        else:
            entry.due = time.monotonic()
            self._push(key, entry.due)
        return True

    async def nudge(self, key: str, partition: int) -> None:
        """Have the owner of ``partition`` poll the watch ``key`` now: at once if that is this
        process, else through a nudge record in the operations topic."""
        if partition in self._owned and self.poll_now(key):
            return
        await self._journal.nudge(key, partition)

    def _on_nudge(self, watch_key: str, partition: int) -> None:
        if partition not in self._owned:
            return
        self.poll_now(watch_key)
        self._spawn(self._delete_nudge(watch_key, partition), f"nudge:{watch_key}")

    async def _delete_nudge(self, watch_key: str, partition: int) -> None:
        try:
            await self._journal.delete_nudge(watch_key, partition)
        except KafkaError as error:  # the next owner handles the nudge again; polls are safe
            logger.warning("could not delete the nudge of %s: %s", watch_key, error)

    def release(self, partitions: set[int]) -> None:
        """Drop the watches of revoked partitions; their new owner takes them over."""
        self._owned -= partitions
        for key, entry in list(self._scheduled.items()):
            if entry.partition in partitions:
                self._unschedule(key)
        self._update_gauges()

    def _on_table_change(self, key: str, partition: int, watch: WatchRecord | None) -> None:
        if partition not in self._owned:
            return
        if watch is not None:
            self._schedule(watch, partition)
        else:
            self._unschedule(key)
        self._update_gauges()

    def _schedule(self, watch: WatchRecord, partition: int, *, adopted: bool = False) -> None:
        entry = self._scheduled.get(watch.key)
        if entry is not None:
            entry.watch = watch
            return
        policy = self._settings.poll_policy(watch.kind)
        since_start = (utcnow() - watch.started_at).total_seconds()
        first = policy.delay(watch.polls, self._random.random())
        if watch.polls == 0 and since_start < first:
            wait = first - since_start
        elif adopted:
            # When the previous owner last polled is not recorded: spread the adopted watches
            # over the interval the policy has reached, rather than polling them all at once.
            polls = max(watch.polls, policy.polls_within(since_start))
            wait = self._random.random() * policy.delay(polls, self._random.random())
            watch = watch.model_copy(update={"polls": polls})
        else:
            wait = 0.0 if watch.polls == 0 else first
        due = time.monotonic() + wait
        self._scheduled[watch.key] = _Scheduled(watch, partition, due)
        self._counts[watch.kind] += 1
        self._push(watch.key, due)

    def _unschedule(self, key: str) -> None:
        entry = self._scheduled.pop(key, None)
        if entry is not None:
            self._counts[entry.watch.kind] -= 1

    def _push(self, key: str, due: float) -> None:
        heapq.heappush(self._heap, (due, next(self._sequence), key))
        self._wake.set()

    async def _schedule_forever(self) -> None:
        while True:
            timeout = self._heap[0][0] - time.monotonic() if self._heap else None
            if timeout is None or timeout > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
                continue
            due, _, key = heapq.heappop(self._heap)
            entry = self._scheduled.get(key)
            if entry is None or entry.due != due or entry.polling:
                continue
            entry.polling = True
            await self._poll_slots.acquire()
            self._spawn(self._poll(key, entry), f"poll:{key}")

    async def _poll(self, key: str, entry: _Scheduled[RequestT]) -> None:
        watch = entry.watch
        with tracing.poll_span(watch.kind, watch.target_id, watch.job_id, watch.trace_context):
            await self._poll_traced(key, entry)

    async def _poll_traced(self, key: str, entry: _Scheduled[RequestT]) -> None:
        try:
            if entry.finished:
                await self._forget(entry)
            else:
                await self._poll_once(key, entry)
        except Exception:
            # A bug, or an error nobody translated: the watch is polled again later (the
            # job's end, if already recorded, is not repeated: see ``_forget``).
            logger.exception("poll of %s failed unexpectedly; polling it again later", key)
            self._reschedule(key, entry)
        finally:
            self._poll_slots.release()

    async def _poll_once(self, key: str, entry: _Scheduled[RequestT]) -> None:
        watch = entry.watch
        kind = watch.kind
        started = time.monotonic()
        if utcnow() >= watch.deadline_at:
            await self._fail(entry, JobError("deadline_exceeded", self._deadline_message(watch)))
            return
        poll = PollInput(
            api=self._api,
            request=self._request_of(entry),
            target_id=watch.target_id,
            started_at=watch.started_at,
            status=watch.status,
            facts=self._facts,
        )
        try:
            result = await self._logic.watch_kinds[kind].poll(poll)
        except BriaApiError as error:
            metrics.POLL_REQUESTS.labels(kind, "error").inc()
            if not error.retriable:
                await self._fail(entry, error)
                return
            self._reschedule(key, entry)
            return
        except FailureError as failure:
            metrics.POLL_REQUESTS.labels(kind, "failed").inc()
            await self._fail(entry, failure)
            return
        except Exception:
            metrics.POLL_REQUESTS.labels(kind, "error").inc()
            raise
        finally:
            metrics.POLL_DURATION.labels(kind).observe(time.monotonic() - started)
        if isinstance(result, Completed):
            metrics.POLL_REQUESTS.labels(kind, "completed").inc()
            await self._complete(entry, result)
            return
        metrics.POLL_REQUESTS.labels(kind, "running").inc()
        await self._still_running(key, entry, result)

    async def _still_running(
        self, key: str, entry: _Scheduled[RequestT], result: StillRunning
    ) -> None:
        watch = entry.watch.model_copy(update={"polls": entry.watch.polls + 1})
        if result.status != watch.status:
            watch = watch.model_copy(update={"status": result.status})
            await self._journal.put_watch(watch)
            await self._journal.publish_events(watch.job_id, watch.metadata, result.events)
        entry.watch = watch
        self._reschedule(key, entry)

    def _reschedule(self, key: str, entry: _Scheduled[RequestT]) -> None:
        if self._scheduled.get(key) is not entry:
            return
        policy = self._settings.poll_policy(entry.watch.kind)
        now = time.monotonic()
        if entry.poll_again:
            entry.due = now
        else:
            # From when this poll was due, not from when it ended: a slow status request or
            # a wait for a poll slot does not stretch the schedule the policy sets.
            delay = policy.delay(entry.watch.polls, self._random.random())
            entry.due = max(now, entry.due + delay)
        entry.polling = entry.poll_again = False
        self._push(key, entry.due)

    async def _complete(self, entry: _Scheduled[RequestT], result: Completed) -> None:
        watch = entry.watch
        await self._runner.finish_completed(self._request_of(entry), result)
        finished_at = utcnow()
        if result.completed_at is not None:
            delay = (finished_at - result.completed_at).total_seconds()
            metrics.POLL_DETECTION_DELAY.labels(watch.kind).observe(max(0.0, delay))
        self._observe_duration(watch, "completed")
        entry.finished = True
        await self._forget(entry)

    async def _fail(self, entry: _Scheduled[RequestT], error: FailureError) -> None:
        watch = entry.watch
        await self._runner.finish_failed(self._request_of(entry), error)
        if error.completed_at is not None:
            delay = (utcnow() - error.completed_at).total_seconds()
            metrics.POLL_DETECTION_DELAY.labels(watch.kind).observe(max(0.0, delay))
        self._observe_duration(watch, error.code)
        entry.finished = True
        await self._forget(entry)

    async def _forget(self, entry: _Scheduled[RequestT]) -> None:
        """Remove the watch of a job whose end is recorded."""
        await self._journal.tombstone(entry.watch.key)
        self._unschedule(entry.watch.key)

    def _observe_duration(self, watch: WatchRecord, outcome: str) -> None:
        seconds = (utcnow() - watch.started_at).total_seconds()
        metrics.OPERATION_DURATION.labels(watch.kind, outcome).observe(seconds)

    def _request_of(self, entry: _Scheduled[RequestT]) -> RequestT:
        if entry.request is None:
            entry.request = self._logic.parse(entry.watch.request_bytes())
        return entry.request

    @staticmethod
    def _deadline_message(watch: WatchRecord) -> str:
        return f"{watch.kind} {watch.target_id} did not finish by {watch.deadline_at.isoformat()}"

    async def _forget_finished_forever(self) -> None:
        """Delete finished-job records and facts of owned partitions past their retention."""
        retention = self._settings.finished_retention_seconds
        while True:
            await asyncio.sleep(min(60.0, max(0.5, retention / 4)))
            cutoff = time.time() - retention
            expired = [
                finished_key(job_id) for job_id in self._table.finished_before(cutoff, self._owned)
            ]
            expired += [fact_key(name) for name in self._table.facts_before(cutoff, self._owned)]
            for start in range(0, len(expired), 500):
                await asyncio.gather(
                    *(self._journal.tombstone(key) for key in expired[start : start + 500])
                )

    async def _keep_membership(self) -> None:
        while True:
            # Every assigned partition is paused: this only keeps the group membership alive.
            await self._membership.getmany(timeout_ms=1000)

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _update_gauges(self) -> None:
        for kind in self._logic.watch_kinds:
            metrics.WATCHES.labels(kind).set(self._counts.get(kind, 0))
