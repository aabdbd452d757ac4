"""The calling marker: written before a job's paid generation, seen by the job's next owner."""

import asyncio
import json
from typing import Any, cast

from bria_fleet.api import OutcomeUnknown, ServerError
from bria_fleet.api._paid_calls import announce_paid_call
from bria_fleet.runtime.events import request_fields
from bria_fleet.runtime.job_runner import Delivery, JobRunner
from bria_fleet.runtime.keyed_order import KeyedSerializer
from bria_fleet.runtime.outcomes import Completed, EventSpec, JobContext, LogicBase, Watching
from bria_fleet.runtime.worker_settings import WorkerSettings
from bria_fleet_contracts import GenerationRequest
from tests.fakes import MemoryJournal, MemoryTable

REQUEST = {"job_id": "j-1", "op": "text_to_image", "model_id": "300", "prompt": "a cat"}


class _PayingLogic(LogicBase[GenerationRequest]):
    """Sends one paid generation the way the API client does: announced first."""

    domain = "generation"

    def __init__(self, journal: MemoryJournal, failure: Exception | None = None) -> None:
        super().__init__()
        self.journal = journal
        self.failure = failure
        self.marked_when_sent: list[str] | None = None
        self.sent = 0

    def failure_data(self, request: GenerationRequest) -> dict[str, Any]:
        return {"op": request.op, "model_id": request.model_id}

    async def run(self, request: GenerationRequest, context: JobContext) -> Completed | Watching:
        if await announce_paid_call():
            raise OutcomeUnknown("an earlier attempt may have sent it")
        self.marked_when_sent = list(self.journal.calling)
        self.sent += 1
        if self.failure is not None:
            raise self.failure
        data = {"op": request.op, "model_id": "300", "assets": [], "request": {}}
        data["request"] = request_fields(request)
        return Completed(EventSpec("generation.completed", data))


def _run(logic: _PayingLogic, journal: MemoryJournal, table: MemoryTable) -> JobRunner[Any]:
    return JobRunner(
        "generation",
        logic,
        cast(Any, None),
        cast(Any, table),
        cast(Any, journal),
        WorkerSettings(retry_delays=[1.0]),
    )


async def _deliver(runner: JobRunner[Any]) -> None:
    await runner.handle(
        Delivery(
            value=json.dumps(REQUEST).encode(),
            key=b"j-1",
            headers={},
            topic="bria.generation.requests",
            partition=0,
            offset=3,
            turn=KeyedSerializer().reserve("j-1"),
        )
    )


async def test_the_marker_is_durable_before_the_paid_call_goes_out() -> None:
    journal = MemoryJournal()
    logic = _PayingLogic(journal)
    await _deliver(_run(logic, journal, MemoryTable()))
    assert logic.marked_when_sent == ["j-1"]
    (event,) = journal.finished["j-1"]  # the finished record takes the marker's place
    assert event.value["type"] == "generation.completed"
    assert journal.uncalled == []


async def test_a_job_sent_through_retry_withdraws_its_marker() -> None:
    journal = MemoryJournal()
    logic = _PayingLogic(journal, failure=ServerError("refused", http_status=503))
    await _deliver(_run(logic, journal, MemoryTable()))
    assert journal.uncalled == ["j-1"]
    (forwarded,) = journal.forwarded
    assert forwarded[0] == "bria.generation.requests.retry"


async def test_the_next_owner_of_a_marked_job_does_not_send_it_again() -> None:
    journal = MemoryJournal()
    table = MemoryTable()
    table.calling_jobs.add("j-1")  # its earlier owner died mid-call
    logic = _PayingLogic(journal)
    await _deliver(_run(logic, journal, table))
    assert logic.sent == 0
    (event,) = journal.finished["j-1"]
    assert event.value["type"] == "generation.failed"
    assert event.value["error"]["code"] == "api_outcome_unknown"
    assert journal.calling == []


class _SlowMarkerJournal(MemoryJournal):
    """Acknowledges calling markers only when the test says so."""

    def __init__(self) -> None:
        super().__init__()
        self.acknowledge = asyncio.Event()

    async def mark_calling(self, job_id: str) -> None:
        await super().mark_calling(job_id)
        await self.acknowledge.wait()


class _CountingLogic(_PayingLogic):
    """Counts the jobs between their announcement and their (simulated) API answer."""

    def __init__(self, journal: MemoryJournal) -> None:
        super().__init__(journal)
        self.in_logic = 0
        self.most_in_logic = 0
        self.calling = 0
        self.most_calling = 0

    async def run(self, request: GenerationRequest, context: JobContext) -> Completed | Watching:
        self.in_logic += 1
        self.most_in_logic = max(self.most_in_logic, self.in_logic)
        try:
            if await announce_paid_call():
                raise OutcomeUnknown("an earlier attempt may have sent it")
            self.calling += 1
            self.most_calling = max(self.most_calling, self.calling)
            await asyncio.sleep(0.01)
            self.calling -= 1
            data = {"op": request.op, "model_id": "300", "assets": [], "request": {}}
            data["request"] = request_fields(request)
            return Completed(EventSpec("generation.completed", data))
        finally:
            self.in_logic -= 1


async def test_a_job_writing_its_marker_lets_another_job_call_the_api() -> None:
    journal = _SlowMarkerJournal()
    logic = _CountingLogic(journal)
    runner = JobRunner(
        "generation",
        logic,
        cast(Any, None),
        cast(Any, MemoryTable()),
        cast(Any, journal),
        WorkerSettings(concurrency=1),
    )
    jobs = [asyncio.create_task(runner.handle(_delivery_of(f"j-{n}", offset=n))) for n in range(3)]
    for _ in range(200):
        if len(journal.calling) == 3:
            break
        await asyncio.sleep(0.01)
    assert journal.calling == ["j-0", "j-1", "j-2"], "a marker write held the only API slot"
    journal.acknowledge.set()
    await asyncio.gather(*jobs)
    assert set(journal.finished) == {"j-0", "j-1", "j-2"}
    assert logic.most_calling == 1, "more jobs called the API than WORKER_CONCURRENCY"


def _delivery_of(job_id: str, offset: int) -> Delivery:
    value = {**REQUEST, "job_id": job_id}
    return Delivery(
        value=json.dumps(value).encode(),
        key=job_id.encode(),
        headers={},
        topic="bria.generation.requests",
        partition=0,
        offset=offset,
        turn=KeyedSerializer().reserve(job_id),
    )
