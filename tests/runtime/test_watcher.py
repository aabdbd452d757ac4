"""The watcher in process: a fake table and journal, the simulator over ASGI, no broker."""

import asyncio
import time
from datetime import timedelta
from typing import Any, cast

from bria_fleet.runtime.job_runner import JobRunner
from bria_fleet.runtime.records import WatchRecord, utcnow
from bria_fleet.runtime.watcher import Watcher
from bria_fleet.runtime.worker_settings import PollPolicy, WorkerSettings
from bria_fleet.workers.generation import WATCH_KIND, GenerationLogic
from bria_fleet_contracts import seed
from tests.fakes import IdleMembership, MemoryJournal, MemoryWatchTable
from tests.workers.logic_support import sim_api

QUICK = PollPolicy(first_delay=0.02, growth=1.0, cap=0.02, jitter=0.0, deadline=30)


def _watch(target_id: str, deadline_in: float = 30.0) -> WatchRecord:
    return WatchRecord(
        kind=WATCH_KIND,
        target_id=target_id,
        job_id="gen-1",
        request={
            "job_id": "gen-1",
            "op": "fibo_generate_image",
            "model_id": seed.FIBO_MODEL_ID,
            "prompt": "a cat",
        },
        deadline_at=utcnow() + timedelta(seconds=deadline_in),
    )


def _watcher(
    logic: GenerationLogic,
    api: Any,
    table: MemoryWatchTable,
    journal: MemoryJournal,
    settings: WorkerSettings,
) -> Watcher[Any]:
    """A watcher over the fake table and journal that owns whatever it is told to adopt."""
    runner = JobRunner("generation", logic, api, cast(Any, table), cast(Any, journal), settings)
    return Watcher(
        logic,
        runner,
        api,
        cast(Any, table),
        cast(Any, journal),
        cast(Any, IdleMembership()),
        "bria.generation.operations",
        settings,
    )


async def _adopt_until_tombstoned(
    watcher: Watcher[Any], journal: MemoryJournal, within: float
) -> None:
    """Start ``watcher``, adopt partition 0 and wait until a watch is removed; then stop it."""
    await watcher.start()
    try:
        await watcher.adopt({0})
        async with asyncio.timeout(within):
            await journal.tombstoned.wait()  # a watch's end: after its finished record
    finally:
        await watcher.stop()


async def _watch_until_finished(watch: WatchRecord) -> MemoryJournal:
    settings = WorkerSettings(poll_policies={WATCH_KIND: QUICK})
    table, journal, logic = MemoryWatchTable(), MemoryJournal(), GenerationLogic()
    async with sim_api(generation_seconds=0.05) as api:
        if watch.target_id == "start":
            started = await api.generate_image_v2(_v2_request())
            watch = watch.model_copy(update={"target_id": started.request_id})
        table.watched[watch.job_id] = watch
        watcher = _watcher(logic, api, table, journal, settings)
        await _adopt_until_tombstoned(watcher, journal, within=20)
    assert journal.tombstones == [watch.key]
    return journal


def _v2_request() -> Any:
    from bria_fleet import api

    return api.V2ImageRequest(tailored_model_id=seed.FIBO_MODEL_ID, prompt="a cat")


async def test_a_watched_generation_ends_in_its_completed_event_and_a_tombstone() -> None:
    journal = await _watch_until_finished(_watch("start"))
    (event,) = journal.finished["gen-1"]
    assert event.value["type"] == "generation.completed"
    assert event.value["data"]["assets"]


async def test_a_watch_past_its_deadline_fails_the_job() -> None:
    journal = await _watch_until_finished(_watch("no-such-request", deadline_in=-1))
    (event,) = journal.finished["gen-1"]
    assert event.value["type"] == "generation.failed"
    assert event.value["error"]["code"] == "deadline_exceeded"


async def test_a_nudge_read_from_the_table_makes_the_owner_poll_at_once() -> None:
    # The first poll is a minute away; a nudge (a webhook received by another replica, say)
    # must finish the watch well before that, and the nudge record is then deleted.
    slow = PollPolicy(first_delay=60, growth=1.0, cap=60, jitter=0.0, deadline=600)
    settings = WorkerSettings(poll_policies={WATCH_KIND: slow})
    table, journal, logic = MemoryWatchTable(), MemoryJournal(), GenerationLogic()
    async with sim_api(generation_seconds=0.0) as api:
        started = await api.generate_image_v2(_v2_request())
        watch = _watch(started.request_id)
        table.watched[watch.job_id] = watch
        watcher = _watcher(logic, api, table, journal, settings)
        await watcher.start()
        try:
            await watcher.adopt({0})
            await asyncio.sleep(0.2)
            assert not journal.finished  # not polled yet: the policy waits a minute
            table.nudge(watch.key)
            async with asyncio.timeout(5):
                await journal.tombstoned.wait()
        finally:
            await watcher.stop()
    (event,) = journal.finished["gen-1"]
    assert event.value["type"] == "generation.completed"
    assert journal.deleted_nudges == [(watch.key, 0)]


async def test_a_nudge_for_a_watch_owned_elsewhere_is_written_to_its_partition() -> None:
    settings = WorkerSettings(poll_policies={WATCH_KIND: QUICK})
    table, journal, logic = MemoryWatchTable(), MemoryJournal(), GenerationLogic()
    async with sim_api() as api:
        watcher = _watcher(logic, api, table, journal, settings)
        await watcher.nudge("generation:r1:gen-1", 2)  # partition 2 is not this process's
    assert journal.nudged == [("generation:r1:gen-1", 2)]


async def test_adopted_watches_are_spread_over_the_interval_not_polled_at_once() -> None:
    # Forty operations started an hour ago, polled every minute by their previous owner:
    # their new owner must not send forty status requests the moment it adopts them.
    minute = PollPolicy(first_delay=5, growth=2.0, cap=60, jitter=0.2, deadline=7200)
    settings = WorkerSettings(poll_policies={WATCH_KIND: minute})
    table, journal, logic = MemoryWatchTable(), MemoryJournal(), GenerationLogic()
    hour_ago = utcnow() - timedelta(hours=1)
    for n in range(40):
        watch = _watch(f"request-{n}").model_copy(
            update={"job_id": f"gen-{n}", "started_at": hour_ago}
        )
        table.watched[watch.job_id] = watch
    asked: list[str] = []
    async with sim_api() as api:
        status_of = api.get_async_result

        async def counted(request_id: str) -> Any:
            asked.append(request_id)
            return await status_of(request_id)

        setattr(api, "get_async_result", counted)  # noqa: B010
        watcher = _watcher(logic, api, table, journal, settings)
        await watcher.start()
        try:
            await watcher.adopt({0})
            await asyncio.sleep(0.5)
        finally:
            await watcher.stop()
    assert len(asked) < 10, asked  # about 40 * 0.5 s / 54 s expected


async def test_the_next_poll_is_due_a_delay_after_the_last_was_due_not_after_it_ended() -> None:
    # A status request that was slow (or waited for a poll slot) must not stretch the
    # schedule: the policy's delays count from when each poll was due.
    every_ten = PollPolicy(first_delay=10, growth=1.0, cap=10, jitter=0.0, deadline=600)
    settings = WorkerSettings(poll_policies={WATCH_KIND: every_ten})
    table, journal, logic = MemoryWatchTable(), MemoryJournal(), GenerationLogic()
    watch = _watch("request-1")
    async with sim_api() as api:
        watcher = _watcher(logic, api, table, journal, settings)
        watcher._schedule(watch, 0)
        entry = watcher._scheduled[watch.key]
        was_due = time.monotonic() - 3.0  # polled 3 s late
        entry.due, entry.polling = was_due, True
        watcher._reschedule(watch.key, entry)
        assert entry.due == was_due + 10.0
        entry.due, entry.polling = time.monotonic() - 30.0, True  # further behind than a delay
        watcher._reschedule(watch.key, entry)
        assert entry.due <= time.monotonic()


async def test_a_poll_that_raises_an_unexpected_error_is_logged_and_polled_again(
    caplog: Any,
) -> None:
    # A bug (or an error nobody translated) in one status request must not leave the watch
    # marked as polling forever: it is logged, and the watch is polled again later.
    settings = WorkerSettings(poll_policies={WATCH_KIND: QUICK})
    table, journal, logic = MemoryWatchTable(), MemoryJournal(), GenerationLogic()
    async with sim_api(generation_seconds=0.0) as api:
        started = await api.generate_image_v2(_v2_request())
        watch = _watch(started.request_id)
        table.watched[watch.job_id] = watch
        status_of = api.get_async_result
        calls = 0

        async def broken_once(request_id: str) -> Any:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RuntimeError("an unexpected bug")
            return await status_of(request_id)

        setattr(api, "get_async_result", broken_once)  # noqa: B010
        watcher = _watcher(logic, api, table, journal, settings)
        await _adopt_until_tombstoned(watcher, journal, within=5)
    assert calls == 2
    (event,) = journal.finished["gen-1"]
    assert event.value["type"] == "generation.completed"
    assert "an unexpected bug" in caplog.text


async def test_a_watch_whose_tombstone_failed_is_not_finished_twice() -> None:
    # The job ended (its finished record and event are written) but removing the watch failed:
    # the next try removes the watch without asking the API or ending the job again.
    settings = WorkerSettings(poll_policies={WATCH_KIND: QUICK})
    table, journal, logic = MemoryWatchTable(), MemoryJournal(), GenerationLogic()
    finishes = 0
    finish = journal.finish
    tombstone = journal.tombstone

    async def counted_finish(job_id: str, messages: Any) -> None:
        nonlocal finishes
        finishes += 1
        await finish(job_id, messages)

    tries = 0

    async def failing_once(key: str) -> None:
        nonlocal tries
        tries += 1
        if tries == 1:
            raise RuntimeError("the tombstone could not be written")
        await tombstone(key)

    setattr(journal, "finish", counted_finish)  # noqa: B010
    setattr(journal, "tombstone", failing_once)  # noqa: B010
    async with sim_api(generation_seconds=0.0) as api:
        started = await api.generate_image_v2(_v2_request())
        watch = _watch(started.request_id)
        table.watched[watch.job_id] = watch
        watcher = _watcher(logic, api, table, journal, settings)
        await _adopt_until_tombstoned(watcher, journal, within=5)
    assert (finishes, tries) == (1, 2)
    assert journal.tombstones == [watch.key]
    assert len([m for m in journal.published if m.value["type"] == "generation.completed"]) == 1
