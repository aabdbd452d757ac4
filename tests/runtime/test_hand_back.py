"""Giving partitions up in a rebalance: running jobs finish, waiting ones are handed back."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from bria_fleet.runtime.events import request_fields
from bria_fleet.runtime.job_runner import Delivery, JobRunner
from bria_fleet.runtime.keyed_order import KeyedSerializer
from bria_fleet.runtime.outcomes import Completed, EventSpec, JobContext, LogicBase, Watching
from bria_fleet.runtime.worker_settings import WorkerSettings
from bria_fleet_contracts import GenerationRequest, headers
from tests.fakes import MemoryJournal, MemoryTable

TOPIC = "bria.generation.requests"


class _SlowLogic(LogicBase[GenerationRequest]):
    """Each run waits until the test lets it finish."""

    domain = "generation"

    def __init__(self) -> None:
        super().__init__()
        self.started: list[str] = []
        self.release = asyncio.Event()

    def failure_data(self, request: GenerationRequest) -> dict[str, Any]:
        return {"op": request.op}

    async def run(self, request: GenerationRequest, context: JobContext) -> Completed | Watching:
        self.started.append(request.job_id)
        await self.release.wait()
        data = {
            "op": request.op,
            "model_id": "300",
            "assets": [],
            "request": request_fields(request),
        }
        return Completed(EventSpec("generation.completed", data))


def _runner(
    logic: _SlowLogic, settings: WorkerSettings | None = None
) -> tuple[JobRunner[Any], MemoryJournal]:
    journal = MemoryJournal()
    runner = JobRunner(
        "generation",
        logic,
        cast(Any, None),
        cast(Any, MemoryTable()),
        cast(Any, journal),
        settings or WorkerSettings(),
    )
    return runner, journal


def _delivery(job_id: str, partition: int, offset: int, due_in: float | None = None) -> Delivery:
    value = {"job_id": job_id, "op": "text_to_image", "model_id": "300", "prompt": "a cat"}
    extra = {}
    if due_in is not None:
        extra[headers.DUE_AT] = (datetime.now(UTC) + timedelta(seconds=due_in)).isoformat()
    return Delivery(
        value=json.dumps(value).encode(),
        key=job_id.encode(),
        headers=extra,
        topic=TOPIC,
        partition=partition,
        offset=offset,
        turn=KeyedSerializer().reserve(job_id),
    )


async def _until(condition: Any) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    pytest.fail("the condition never held")


async def test_hand_back_waits_for_running_jobs_and_hands_back_waiting_ones() -> None:
    logic = _SlowLogic()
    runner, journal = _runner(logic)
    running = asyncio.create_task(runner.handle(_delivery("running", 0, 1)))
    waiting = asyncio.create_task(runner.handle(_delivery("due-later", 0, 2, due_in=300.0)))
    await _until(lambda: logic.started == ["running"])

    hand_back = asyncio.create_task(runner.hand_back([(TOPIC, 0)], grace=30.0))
    await _until(waiting.done)
    assert waiting.cancelled()
    assert not hand_back.done(), "handed back while a job was still calling the API"

    logic.release.set()
    assert await hand_back is True
    await running
    assert set(journal.finished) == {"running"}
    assert logic.started == ["running"]


async def test_work_on_other_partitions_goes_on_during_a_hand_back() -> None:
    logic = _SlowLogic()
    runner, journal = _runner(logic)
    running = asyncio.create_task(runner.handle(_delivery("kept", 1, 1)))
    await _until(lambda: logic.started == ["kept"])
    assert await runner.hand_back([(TOPIC, 0)], grace=1.0) is True
    logic.release.set()
    await running
    assert set(journal.finished) == {"kept"}


async def test_a_delivery_arriving_after_the_hand_back_is_not_started() -> None:
    logic = _SlowLogic()
    runner, _ = _runner(logic)
    assert await runner.hand_back([(TOPIC, 0)], grace=1.0) is True
    late = asyncio.create_task(runner.handle(_delivery("late", 0, 3)))
    with pytest.raises(asyncio.CancelledError):
        await late
    assert logic.started == []


async def test_a_partition_assigned_again_takes_work_again() -> None:
    logic = _SlowLogic()
    logic.release.set()
    runner, journal = _runner(logic)
    await runner.hand_back([(TOPIC, 0)], grace=1.0)
    runner.partitions_assigned([(TOPIC, 0)])
    await runner.handle(_delivery("back", 0, 4))
    assert set(journal.finished) == {"back"}


async def test_a_job_outlasting_the_grace_ends_only_with_its_new_owner(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its partition went to another replica, which runs it again; an answer arriving here
    later must not end the job a second time."""
    logic = _SlowLogic()
    runner, journal = _runner(logic)
    stuck = asyncio.create_task(runner.handle(_delivery("stuck", 0, 1)))
    kept = asyncio.create_task(runner.handle(_delivery("kept", 1, 1)))
    await _until(lambda: sorted(logic.started) == ["kept", "stuck"])
    assert await runner.hand_back([(TOPIC, 0)], grace=0.05) is False
    await runner.gone([(TOPIC, 0)])
    assert "still calling the API" in caplog.text
    logic.release.set()  # the API answers after all, before the next assignment
    await _until(kept.done)
    assert not stuck.done(), "an outcome was written before the assignment said whose it is"
    runner.partitions_assigned([(TOPIC, 1)])
    await asyncio.gather(stuck, kept, return_exceptions=True)
    assert stuck.cancelled()
    assert set(journal.finished) == {"kept"}, "a job given up in the rebalance ended here too"
    assert [m for m in journal.published if m.key == "stuck"] == []


async def test_a_job_ending_after_the_grace_but_before_its_partition_is_gone_ends_here() -> None:
    """Until the rebalance callback returns (the offsets are being committed), the
    partition is still this replica's."""
    logic = _SlowLogic()
    runner, journal = _runner(logic)
    running = asyncio.create_task(runner.handle(_delivery("late", 0, 1)))
    await _until(lambda: logic.started == ["late"])
    assert await runner.hand_back([(TOPIC, 0)], grace=0.05) is False
    logic.release.set()
    await running
    assert set(journal.finished) == {"late"}


async def test_a_job_outlasting_the_grace_ends_here_when_its_partition_comes_back() -> None:
    logic = _SlowLogic()
    runner, journal = _runner(logic)
    running = asyncio.create_task(runner.handle(_delivery("back-again", 0, 1)))
    await _until(lambda: logic.started == ["back-again"])
    assert await runner.hand_back([(TOPIC, 0)], grace=0.05) is False
    await runner.gone([(TOPIC, 0)])
    runner.partitions_assigned([(TOPIC, 0)])
    logic.release.set()
    await running
    assert set(journal.finished) == {"back-again"}


async def test_a_job_still_calling_when_its_partition_goes_elsewhere_is_stopped() -> None:
    logic = _SlowLogic()
    runner, journal = _runner(logic)
    running = asyncio.create_task(runner.handle(_delivery("moved", 0, 1)))
    await _until(lambda: logic.started == ["moved"])
    assert await runner.hand_back([(TOPIC, 0)], grace=0.05) is False
    await runner.gone([(TOPIC, 0)])
    runner.partitions_assigned([(TOPIC, 1)])
    await asyncio.gather(running, return_exceptions=True)
    assert running.cancelled(), "a call whose outcome can only be dropped went on"
    assert journal.finished == {}


async def test_a_job_waiting_for_an_api_slot_is_handed_back_not_started() -> None:
    logic = _SlowLogic()
    runner, journal = _runner(logic, WorkerSettings(concurrency=1))
    running = asyncio.create_task(runner.handle(_delivery("calling", 0, 1)))
    queued = asyncio.create_task(runner.handle(_delivery("queued", 0, 2)))
    await _until(lambda: logic.started == ["calling"])

    hand_back = asyncio.create_task(runner.hand_back([(TOPIC, 0)], grace=30.0))
    logic.release.set()
    assert await hand_back is True
    await running
    await asyncio.gather(queued, return_exceptions=True)
    assert queued.cancelled()
    assert logic.started == ["calling"]
    assert set(journal.finished) == {"calling"}
