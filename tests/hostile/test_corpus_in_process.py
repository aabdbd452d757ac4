"""Every hostile case through the job runner in process (no broker): the outcome it names."""

import json
from typing import Any, cast

import pytest

from bria_fleet.runtime.bounds import decode_header
from bria_fleet.runtime.events import request_fields
from bria_fleet.runtime.job_runner import Delivery, JobRunner
from bria_fleet.runtime.keyed_order import KeyedSerializer
from bria_fleet.runtime.outcomes import Completed, EventSpec, JobContext, LogicBase
from bria_fleet.runtime.worker_settings import WorkerSettings
from bria_fleet_contracts import Domain, headers, topics_for
from tests.fakes import MemoryJournal, MemoryTable
from tests.hostile.corpus import Case, make_corpus
from tests.hostile.requests import valid_request


class _Logic(LogicBase[Any]):
    def __init__(self, domain: Domain) -> None:
        super().__init__()
        self.domain = domain  # type: ignore[misc]
        self.runs: list[str] = []

    def failure_data(self, request: Any) -> dict[str, Any]:
        return {"op": request.op}

    async def run(self, request: Any, context: JobContext) -> Completed:
        self.runs.append(request.job_id)
        return Completed(EventSpec(f"{self.domain}.completed", _completed_data(request)))


def _completed_data(request: Any) -> dict[str, Any]:
    if request.domain == "generation":
        return {
            "op": request.op,
            "model_id": request.model_id,
            "assets": [],
            "request": request_fields(request),
        }
    return {
        "op": request.op,
        "dataset_id": "1",
        "dataset_status": "draft",
        "total": 0,
        "uploaded": 0,
        "skipped": 0,
    }


def _corpus(domain: Domain) -> list[Case]:
    return make_corpus(domain, lambda job_id: valid_request(domain, job_id), lambda n: f"t-{n}")


CASES = [(domain, case) for domain in ("generation", "ingest") for case in _corpus(domain)]


@pytest.mark.parametrize(("domain", "case"), CASES, ids=[f"{d}: {c.name}" for d, c in CASES])
async def test_each_hostile_case_ends_as_its_corpus_entry_says(domain: Domain, case: Case) -> None:
    logic, journal = _Logic(domain), MemoryJournal()
    runner = JobRunner(
        domain,
        logic,
        cast(Any, None),
        cast(Any, MemoryTable()),
        cast(Any, journal),
        WorkerSettings(retry_delays=[0.1]),
    )
    topics = topics_for(domain)
    await runner.handle(
        Delivery(
            value=case.value,
            key=case.key,
            headers={name: decode_header(value) for name, value in case.headers},
            topic=topics.requests if case.topic == "requests" else topics.retry,
            partition=0,
            offset=1,
            turn=KeyedSerializer().reserve("k"),
        )
    )

    dead = [f for f in journal.forwarded if f[0] == topics.dlq]
    if case.dead_letter is None:
        assert not dead, dead[0][3][headers.ERROR]
        assert logic.runs == [case.job_id]
        messages = journal.finished[cast(str, case.job_id)]
        (event,) = [m for m in messages if m.value.get("job_id") == case.job_id]
        assert event.value["type"] == f"{domain}.completed"
        return
    ((_, _, _, letter),) = dead
    assert letter[headers.ERROR_CODE] == case.dead_letter, letter[headers.ERROR]
    assert letter[headers.ERROR].isprintable()
    assert logic.runs == []
    if case.failed_event:
        (event,) = journal.finished[cast(str, case.job_id)]
        assert event.value["type"] == f"{domain}.failed"
        assert event.value["error"]["code"] == case.dead_letter
    else:
        assert journal.finished == {}
    json.dumps([m.value for m in journal.published])  # every event is plain JSON


async def test_a_delivery_whose_handling_raised_is_dead_lettered_and_fails_its_job() -> None:
    journal = MemoryJournal()
    runner = JobRunner(
        "generation",
        _Logic("generation"),
        cast(Any, None),
        cast(Any, MemoryTable()),
        cast(Any, journal),
        WorkerSettings(),
    )
    value = json.dumps(valid_request("generation", "j-9")).encode()
    delivery = Delivery(
        value=value,
        key=b"j-9",
        headers={},
        topic="bria.generation.requests",
        partition=3,
        offset=11,
        turn=KeyedSerializer().reserve("k"),
    )
    await runner.dead_letter_unhandled(delivery, RuntimeError("boom\nFORGED"))
    ((topic, _, copied, letter),) = journal.forwarded
    assert (topic, copied) == ("bria.generation.requests.dlq", value)
    assert letter[headers.ERROR_CODE] == "internal_error"
    assert letter[headers.SOURCE_OFFSET] == "11"
    assert "\n" not in letter[headers.ERROR]
    (event,) = journal.finished["j-9"]
    assert event.value["error"]["code"] == "internal_error"
