"""The calling marker: written before a job's paid generation, seen by the job's next owner."""

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
