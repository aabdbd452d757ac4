"""The job runner in process, against a fake journal and table: no broker."""

import json
from typing import Any, cast

from bria_fleet.api import ServerError
from bria_fleet.runtime.job_runner import Delivery, JobRunner
from bria_fleet.runtime.keyed_order import KeyedSerializer
from bria_fleet.runtime.outcomes import Completed, EventSpec, JobContext, LogicBase, Watching
from bria_fleet.runtime.records import FinishedRecord, OutboundMessage
from bria_fleet.runtime.worker_settings import WorkerSettings
from bria_fleet_contracts import GenerationRequest, headers
from tests.fakes import MemoryJournal, MemoryTable


class _Logic(LogicBase[GenerationRequest]):
    domain = "generation"

    def __init__(self, outcome: Completed | Watching | BaseException) -> None:
        super().__init__()
        self.outcome = outcome
        self.runs = 0

    def failure_data(self, request: GenerationRequest) -> dict[str, Any]:
        return {"op": request.op, "model_id": request.model_id}

    async def run(self, request: GenerationRequest, context: JobContext) -> Completed | Watching:
        self.runs += 1
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome


REQUEST = {"job_id": "j-1", "op": "text_to_image", "model_id": "300", "prompt": "a cat"}
DONE = Completed(
    EventSpec(
        "generation.completed",
        {"op": "text_to_image", "model_id": "300", "assets": [], "request": REQUEST},
    )
)


def _runner(
    logic: _Logic, table: MemoryTable | None = None
) -> tuple[JobRunner[Any], MemoryJournal]:
    journal = MemoryJournal()
    settings = WorkerSettings(retry_delays=[1.0])
    runner = JobRunner(
        "generation",
        logic,
        cast(Any, None),
        cast(Any, table or MemoryTable()),
        cast(Any, journal),
        settings,
    )
    return runner, journal


async def _deliver(runner: JobRunner[Any], value: bytes, attempt: int = 0) -> None:
    extra = {headers.ATTEMPT: str(attempt)} if attempt else {}
    await runner.handle(
        Delivery(
            value=value,
            key=b"j-1",
            headers=extra,
            topic="bria.generation.requests",
            partition=0,
            offset=7,
            turn=KeyedSerializer().reserve("j-1"),
        )
    )


async def test_a_completed_job_is_recorded_with_its_event() -> None:
    runner, journal = _runner(_Logic(DONE))
    await _deliver(runner, json.dumps(REQUEST).encode())
    (event,) = journal.finished["j-1"]
    assert event.topic == "bria.generation.events"
    assert event.value["type"] == "generation.completed"


async def test_a_finished_job_is_replayed_without_running_the_logic() -> None:
    table = MemoryTable()
    recorded = OutboundMessage(topic="bria.generation.events", key="j-1", value={"x": 1})
    table.finished_jobs["j-1"] = FinishedRecord(job_id="j-1", messages=[recorded])
    logic = _Logic(DONE)
    runner, journal = _runner(logic, table)
    await _deliver(runner, json.dumps(REQUEST).encode())
    assert logic.runs == 0
    assert journal.published == [recorded]


async def test_a_retriable_failure_goes_to_the_retry_topic_then_to_the_dead_letters() -> None:
    runner, journal = _runner(_Logic(ServerError("503 from the API", http_status=503)))
    await _deliver(runner, json.dumps(REQUEST).encode())
    ((topic, _, _, retry_headers),) = journal.forwarded
    assert topic == "bria.generation.requests.retry"
    assert retry_headers[headers.ATTEMPT] == "1"
    assert "j-1" not in journal.finished

    await _deliver(runner, json.dumps(REQUEST).encode(), attempt=1)
    topic, _, _, dead_headers = journal.forwarded[-1]
    assert topic == "bria.generation.requests.dlq"
    assert dead_headers[headers.ERROR_CODE] == "server_error"
    (failed,) = journal.finished["j-1"]
    assert failed.value["type"] == "generation.failed"
    assert failed.value["data"]["model_id"] == "300"


async def test_a_started_operation_becomes_a_watch_with_the_request() -> None:
    runner, journal = _runner(
        _Logic(Watching(kind="generation", target_id="r-9", status="in_progress"))
    )
    await _deliver(runner, json.dumps(REQUEST).encode())
    (watch,) = journal.watches
    assert (watch.kind, watch.target_id, watch.job_id) == ("generation", "r-9", "j-1")
    assert watch.request["prompt"] == "a cat"


async def test_an_invalid_request_is_dead_lettered_and_fails_its_job() -> None:
    runner, journal = _runner(_Logic(DONE))
    await _deliver(runner, json.dumps({"job_id": "j-1", "op": "nope"}).encode())
    ((topic, _, _, dead_headers),) = journal.forwarded
    assert topic == "bria.generation.requests.dlq"
    assert dead_headers[headers.ERROR_CODE] == "invalid_request"
    assert journal.finished["j-1"][0].value["error"]["code"] == "invalid_request"
