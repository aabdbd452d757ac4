"""One request from arrival to its terminal event: the heart of every worker.

See docs/architecture.md §3. The job runner keeps only the consume-side flow: wait until
due, take the key's turn, parse, replay or run the logic, and hand the outcome to the
journal; what a retriable failure leads to is the retry policy's call.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic

from bria_fleet import metrics
from bria_fleet.api import ApiStatusError, BriaApi, OutcomeUnknown, announcing_paid_calls
from bria_fleet.errors import FailureError
from bria_fleet.runtime.events import (
    error_info,
    event_message,
    failure_message,
    follow_up_messages,
    request_fields,
)
from bria_fleet.runtime.facts import TableFacts
from bria_fleet.runtime.intake import RefusedRequest, admit, attempt_of, due_time
from bria_fleet.runtime.journal import Journal
from bria_fleet.runtime.keyed_order import Turn
from bria_fleet.runtime.operations_table import OperationsTable
from bria_fleet.runtime.outcomes import (
    Completed,
    DomainLogic,
    JobContext,
    RequestT,
    Watching,
)
from bria_fleet.runtime.paid_call_marker import PaidCallMarker
from bria_fleet.runtime.records import OutboundMessage, WatchRecord, utcnow
from bria_fleet.runtime.retry_policy import GiveUp, RetryPolicy, dead_letter_headers
from bria_fleet.runtime.worker_settings import WorkerSettings
from bria_fleet_contracts import (
    Domain,
    FollowUpError,
    InvalidRequest,
    topics_for,
)
from bria_fleet_contracts.parsing import printable

logger = logging.getLogger(__name__)


Partition = tuple[str, int]
"""A consumed partition: (topic, partition number)."""

OUTCOME_WRITE_GRACE_SECONDS = 5.0
"""Once revoked partitions are gone, how long their jobs already writing an outcome are
waited for (see ``JobRunner.gone``)."""


@dataclass(frozen=True)
class Delivery:
    """One consumed record, as the runtime needs it, with its turn among records of its key."""

    value: bytes | None
    key: bytes | None
    headers: Mapping[str, str]
    topic: str
    partition: int
    offset: int
    turn: Turn

    @property
    def source(self) -> Partition:
        """The partition the delivery was consumed from."""
        return (self.topic, self.partition)

    @property
    def attempt(self) -> int:
        """How many times this request went through the retry topic before."""
        return attempt_of(self.headers)


class JobRunner(Generic[RequestT]):
    """Takes each request to exactly one terminal event, at least once and effectively once.

    Ordering contract: a delivery's work starts only when its ``turn`` comes (turns are
    reserved per key at dispatch, in partition order: see ``runtime.keyed_order``), so
    requests with one key run one after the other in order; others run concurrently, at most
    ``settings.concurrency`` of them in their domain logic (the API calls) at once.
    :meth:`handle` returns only when the request's outcome is durable in Kafka (events,
    follow-ups, retry or dead-letter copy, operations record), so the caller may then commit
    its offset.
    """

    def __init__(
        self,
        domain: Domain,
        logic: DomainLogic[RequestT],
        api: BriaApi,
        table: OperationsTable,
        journal: Journal,
        settings: WorkerSettings,
    ) -> None:
        self._domain = domain
        self._topics = topics_for(domain)
        self._logic = logic
        self._api = api
        self._table = table
        self._journal = journal
        self._facts = TableFacts(table, journal)
        self._settings = settings
        self._retry = RetryPolicy(settings.retry_delays, settings.retry_after_cap_seconds)
        self._epoch = 1
        self._synced_epoch = 0
        self._sync_task: asyncio.Task[None] | None = None
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._draining = False
        self._handing_back: set[Partition] = set()
        self._stop_waiting = asyncio.Event()  # set when waiting deliveries must look again
        self._deliveries: Counter[Partition] = Counter()  # inside handle(), per partition
        self._delivery_left = asyncio.Event()
        self._api_slots = asyncio.Semaphore(settings.concurrency)
        self._calling: dict[Partition, set[asyncio.Task[object]]] = {}  # not yet writing
        self._given_up: set[Partition] = set()  # revoked while jobs of theirs still ran
        self._next_assignment = asyncio.Event()

    def partitions_assigned(self, partitions: Iterable[Partition] = ()) -> None:
        """Call on every assignment: the next request first waits for the table to catch up.

        Partitions given back earlier and now assigned again take new work again.
        """
        self._epoch += 1
        partitions = set(partitions)
        self._handing_back.difference_update(partitions)
        self._given_up.difference_update(partitions)
        for source in self._given_up:  # their jobs could only end cancelled: end them now
            for task in self._calling.get(source, ()):
                task.cancel()
        self._next_assignment.set()
        self._next_assignment = asyncio.Event()

    def begin_drain(self) -> None:
        """Start no new job from now on; deliveries not yet started are handed back.

        A handed-back delivery's task ends cancelled and its offset is not committed, so it
        goes back to the group untouched, instead of being cut off half-way through an API
        call at the deadline.
        """
        self._draining = True
        self._wake_waiting()

    async def hand_back(self, partitions: Iterable[Partition], grace: float) -> bool:
        """Give ``partitions`` up in a rebalance: start nothing more from them, and wait (at
        most ``grace`` seconds) until the jobs already running on them have finished.

        Returns whether they all did. A job still running at the deadline goes on; once
        the partitions are gone (:meth:`gone`) it writes its outcome only if they come back.
        """
        leaving = set(partitions)
        self._handing_back.update(leaving)
        self._wake_waiting()
        try:
            await asyncio.wait_for(self._quiet(leaving), grace)
        except TimeoutError:
            logger.warning(
                "%d job(s) still running %.0f s after their partitions were revoked",
                sum(self._deliveries[p] for p in leaving),
                grace,
            )
            return False
        return True

    async def gone(self, partitions: Iterable[Partition]) -> None:
        """The revoked ``partitions`` are no longer this replica's, jobs of theirs still
        running or not: from now on those jobs write their outcome only if the next
        assignment gives their partition back (see :meth:`_unless_given_up`).

        Waits a little (``OUTCOME_WRITE_GRACE_SECONDS``) for jobs already writing theirs.
        """
        running = {p for p in partitions if self._deliveries[p]}
        if not running:
            return
        self._given_up.update(running)
        logger.warning(
            "%d job(s) of partitions given up are still calling the API: each writes its"
            " outcome only if its partition comes back (its new owner ends it otherwise;"
            " api_outcome_unknown if it may have sent a paid generation)",
            sum(len(self._calling.get(p, ())) for p in running),
        )
        try:
            await asyncio.wait_for(self._writers_done(running), OUTCOME_WRITE_GRACE_SECONDS)
        except TimeoutError:
            logger.warning("jobs of partitions given up are still writing their outcome")

    async def _quiet(self, partitions: set[Partition]) -> None:
        """Until no delivery of ``partitions`` is left."""
        await self._while_busy(partitions, lambda p: self._deliveries[p])

    async def _writers_done(self, partitions: set[Partition]) -> None:
        """Until no job of ``partitions`` is writing its outcome (calling jobs may remain)."""
        await self._while_busy(
            partitions, lambda p: self._deliveries[p] - len(self._calling.get(p, ()))
        )

    async def _while_busy(
        self, partitions: set[Partition], busy: Callable[[Partition], int]
    ) -> None:
        """Wait, re-checked whenever a delivery ends, until ``busy`` is 0 for every partition."""
        while any(busy(p) > 0 for p in partitions):
            self._delivery_left.clear()
            await self._delivery_left.wait()

    async def _unless_given_up(self, source: Partition) -> None:
        """Let a job of a partition given up while it still ran (see :meth:`gone`) go on to
        its outcome only once the partition is assigned here again.

        Otherwise its task ends cancelled, writing nothing: the partition's new owner runs
        the job again, and this replica ending it too would be a second terminal event.
        """
        if source not in self._given_up:
            return
        await self._next_assignment.wait()
        if source in self._given_up:
            raise asyncio.CancelledError

    @contextmanager
    def _calling_from(self, source: Partition) -> Iterator[None]:
        """Count the current task among the jobs of ``source`` not yet writing an outcome."""
        task = asyncio.current_task()
        assert task is not None
        calling = self._calling.setdefault(source, set())
        calling.add(task)
        try:
            yield
        finally:
            calling.discard(task)
            if not calling:
                del self._calling[source]

    def _wake_waiting(self) -> None:
        self._stop_waiting.set()
        self._stop_waiting = asyncio.Event()

    def _hands_back(self, delivery: Delivery) -> bool:
        return self._draining or delivery.source in self._handing_back

    async def handle(self, delivery: Delivery) -> None:
        """Handle one request delivery until its outcome is durable.

        A delivery handed back (by a drain or a rebalance) before its job started raises
        ``CancelledError``: its task ends cancelled, so its offset is not committed.
        """
        self._deliveries[delivery.source] += 1
        try:
            await self._wait_until_due(delivery)
            async with delivery.turn:
                if self._hands_back(delivery):
                    raise asyncio.CancelledError
                with self._counted_in_flight():
                    try:
                        request = self._admit(delivery)
                    except InvalidRequest as invalid:
                        await self._reject(delivery, invalid)
                        return
                    await self._handle_valid(delivery, request)
        finally:
            delivery.turn.release()
            self._deliveries[delivery.source] -= 1
            if not self._deliveries[delivery.source]:
                del self._deliveries[delivery.source]
            self._delivery_left.set()

    @contextmanager
    def _counted_in_flight(self) -> Iterator[None]:
        in_flight = metrics.JOBS_IN_FLIGHT.labels(self._domain)
        in_flight.inc()
        self._in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            in_flight.dec()
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def idle(self) -> None:
        """Return once no job is running (deliveries waiting for their turn do not count)."""
        await self._idle.wait()

    async def _handle_valid(self, delivery: Delivery, request: RequestT) -> None:
        await self._ensure_table_synced()
        finished = self._table.finished(request.job_id)
        if finished is not None:
            metrics.JOBS.labels(self._domain, "replayed").inc()
            await self._journal.publish(finished.messages)
            return
        if self._table.watch_of(request.job_id) is not None:
            metrics.JOBS.labels(self._domain, "watching").inc()
            return
        context = JobContext(
            api=self._api,
            job_id=request.job_id,
            report=lambda spec: self._journal.publish_events(
                request.job_id, request.metadata, [spec]
            ),
            facts=self._facts,
            webhook_url=self._settings.webhook_url,
        )
        # The marker is written while the job holds its API slot, right before the paid
        # call: a worker killed in between leaves a marker for a call never sent, whose
        # job then ends api_outcome_unknown; written earlier, that window would be longer.
        marker = PaidCallMarker(
            self._journal, request.job_id, earlier=self._table.calling(request.job_id)
        )
        try:
            with self._calling_from(delivery.source):
                try:
                    async with self._api_slots:
                        if self._hands_back(delivery):  # it waited for a slot; not started
                            raise asyncio.CancelledError
                        with announcing_paid_calls(marker.announce):
                            outcome = await self._logic.run(request, context)
                except Exception:
                    await self._unless_given_up(delivery.source)
                    raise
                await self._unless_given_up(delivery.source)
        except FailureError as error:
            # A generation that may have run is not repeated: its job ends here, paid once.
            if error.retriable and not isinstance(error, OutcomeUnknown):
                await marker.withdraw()
                await self._retry_later(delivery, request, error)
            else:
                await self.finish_failed(request, error)
            return
        except Exception as error:  # a bug must not lose the request: retry, then dead-letter
            logger.exception("job %s: unexpected error", request.job_id)
            await marker.withdraw()
            await self._retry_later(delivery, request, error)
            return
        if isinstance(outcome, Watching):
            await self._start_watch(request, outcome)
        else:
            await self.finish_completed(request, outcome)

    async def finish_completed(self, request: RequestT, outcome: Completed) -> None:
        """Record and publish a job's end; ``then`` follow-ups run only after ``*.completed``.

        (A job can end without failing and without completing, e.g. ``training.stopped``.)
        """
        messages = [event_message(self._domain, outcome.event, request.job_id, request.metadata)]
        if outcome.event.type.endswith(".completed"):
            try:
                messages += follow_up_messages(
                    request.job_id, request.then, outcome.values, request.metadata
                )
            except FollowUpError as error:
                messages += self._broken_pipeline_messages(request, error)
        await self._journal.finish(request.job_id, messages)
        metrics.JOBS.labels(self._domain, "completed").inc()

    async def finish_failed(self, request: RequestT, error: FailureError) -> None:
        """Record and publish a job's failure event."""
        data = self._logic.failure_data(request)
        message = failure_message(self._domain, request.job_id, request.metadata, error, data)
        await self._journal.finish(request.job_id, [message])
        metrics.JOBS.labels(self._domain, "failed").inc()
        metrics.JOB_FAILURES.labels(self._domain, error.code).inc()

    async def _start_watch(self, request: RequestT, outcome: Watching) -> None:
        policy = self._settings.poll_policy(outcome.kind)
        deadline = self._logic.deadline_seconds(request) or policy.deadline
        watch = WatchRecord(
            kind=outcome.kind,
            target_id=outcome.target_id,
            job_id=request.job_id,
            request=request_fields(request),
            metadata=request.metadata,
            status=outcome.status,
            deadline_at=utcnow() + timedelta(seconds=float(deadline)),
        )
        await self._journal.put_watch(watch)
        await self._journal.publish_events(request.job_id, request.metadata, outcome.events)
        metrics.JOBS.labels(self._domain, "watching").inc()

    def _broken_pipeline_messages(
        self, request: RequestT, error: FollowUpError
    ) -> list[OutboundMessage]:
        """A follow-up that cannot be rendered ends, unrun, in a failure event of its own."""
        follow_up = next(f for f in request.then if f.step == error.step)
        failure = FailureError(str(error), code="invalid_follow_up")
        job_id = f"{request.job_id}/{error.step}"
        data = {"op": follow_up.request.get("op")}
        return [failure_message(follow_up.domain, job_id, request.metadata, failure, data)]

    def _admit(self, delivery: Delivery) -> RequestT:
        """The delivery's request, within the size and header bounds (``runtime.intake``)."""
        return admit(
            delivery.value,
            delivery.key,
            delivery.headers,
            self._logic.parse,
            max_request_bytes=self._settings.max_request_bytes,
            due_horizon_seconds=self._settings.due_horizon_seconds,
        )

    async def _reject(self, delivery: Delivery, invalid: InvalidRequest) -> None:
        """An unreadable or invalid request: dead-letter it, and fail its job if it has an id."""
        metrics.JOBS.labels(self._domain, "invalid").inc()
        code = invalid.code if isinstance(invalid, RefusedRequest) else "invalid_request"
        await self._dead_letter(delivery, code, invalid.reason)
        if invalid.job_id is None:
            return
        failure = FailureError(invalid.reason, code=code)
        message = failure_message(self._domain, invalid.job_id, {}, failure)
        await self._journal.finish(invalid.job_id, [message])
        metrics.JOB_FAILURES.labels(self._domain, failure.code).inc()

    async def _retry_later(
        self, delivery: Delivery, request: RequestT, error: BaseException
    ) -> None:
        # The API's own Retry-After, when longer than the configured delay, holds it back too.
        asked = error.retry_after if isinstance(error, ApiStatusError) else None
        decision = self._retry.decide(delivery.attempt, error_info(error), not_before=asked or 0.0)
        if not isinstance(decision, GiveUp):
            metrics.JOBS.labels(self._domain, "retried").inc()
            await self._journal.forward(
                self._topics.retry,
                delivery.key,
                delivery.value,
                {**delivery.headers, **decision.headers},
            )
            return
        metrics.JOBS.labels(self._domain, "dead_lettered").inc()
        await self._dead_letter(delivery, decision.code, decision.reason)
        message = failure_message(
            self._domain,
            request.job_id,
            request.metadata,
            error,
            self._logic.failure_data(request),
            event_type=f"{self._domain}.failed",
        )
        await self._journal.finish(request.job_id, [message])
        metrics.JOB_FAILURES.labels(self._domain, error_info(error).code).inc()

    async def dead_letter_unhandled(self, delivery: Delivery, error: BaseException) -> None:
        """The last resort for a delivery whose handling raised: dead-letter it with code
        ``internal_error`` and fail its job if its value names a usable one."""
        metrics.JOBS.labels(self._domain, "dead_lettered").inc()
        reason = printable(f"the worker could not handle it: {error!r}")
        await self._dead_letter(delivery, "internal_error", reason)
        job_id: str | None
        try:
            job_id = self._admit(delivery).job_id
        except InvalidRequest as invalid:
            job_id = invalid.job_id
        except Exception:  # the request may be what broke the handling
            job_id = None
        if job_id is not None:
            failure = FailureError(reason, code="internal_error")
            message = failure_message(self._domain, job_id, {}, failure)
            await self._journal.finish(job_id, [message])
            metrics.JOB_FAILURES.labels(self._domain, failure.code).inc()

    async def _dead_letter(self, delivery: Delivery, code: str, reason: str) -> None:
        extra = dead_letter_headers(
            code, reason, delivery.topic, delivery.partition, delivery.offset
        )
        await self._journal.forward(
            self._topics.dlq, delivery.key, delivery.value, {**delivery.headers, **extra}
        )

    async def _wait_until_due(self, delivery: Delivery) -> None:
        """Sleep until a retried request is due, or until it is handed back.

        A due time that cannot be honoured is not waited for: the request is refused.
        """
        due_at = due_time(delivery.headers, self._settings.due_horizon_seconds)
        if due_at is not None:
            wait = (due_at - datetime.now(UTC)).total_seconds()
            while wait > 0 and not self._hands_back(delivery):
                started = asyncio.get_running_loop().time()
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._stop_waiting.wait(), wait)
                wait -= asyncio.get_running_loop().time() - started

    async def _ensure_table_synced(self) -> None:
        while self._synced_epoch < self._epoch:
            if self._sync_task is None or self._sync_task.done():
                self._sync_task = asyncio.create_task(self._sync_table(self._epoch))
            await asyncio.shield(self._sync_task)

    async def _sync_table(self, epoch: int) -> None:
        await self._table.sync()
        self._synced_epoch = max(self._synced_epoch, epoch)
