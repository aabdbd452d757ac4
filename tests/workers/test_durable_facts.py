"""Facts a terminal event needs live in the operations topic, not in one process's memory.

Two logic instances sharing one set of facts stand for two replicas reading one operations
table (what ``TableFacts`` over ``OperationsTable`` gives them); a new instance stands for a
worker restarted after a kill.
"""

import json
from typing import Any, cast

import pytest

from bria_fleet.api import BriaApi
from bria_fleet.runtime.operations_table import OperationsTable
from bria_fleet.runtime.outcomes import Completed, Watching
from bria_fleet.runtime.records import FactRecord, fact_key
from bria_fleet.workers.ingest import IngestLogic
from bria_fleet.workers.training import TrainingLogic
from bria_fleet_contracts import seed
from bria_fleet_contracts.examples import ASSETS
from tests.fakes import MemoryFacts
from tests.workers.logic_support import Job, sim_api


def _raw(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


async def test_a_stop_asked_on_one_replica_is_reported_as_requested_by_another() -> None:
    facts = MemoryFacts()
    async with sim_api(training_seconds=60, stopping_seconds=0.05) as api:
        watching = TrainingLogic()  # replica B: owns the train job's watch
        stopping = TrainingLogic()  # replica A: handles the stop request
        train = Job(watching, api, facts)
        request, started = await train.run(
            _raw(
                {
                    "job_id": "train-1",
                    "op": "train_model",
                    "dataset_id": seed.COMPLETED_DATASET_ID,
                    "model": {"name": "stop-me", "training_version": "light"},
                }
            )
        )
        assert isinstance(started, Watching)

        stop = Job(stopping, api, facts)
        await stop.run(
            _raw({"job_id": "stop-1", "op": "stop_training", "model_id": started.target_id})
        )
        ended, _ = await train.watch(request, started)

    assert ended.event.type == "training.stopped"
    data = cast(Any, ended.event.data)
    assert data.reason == "requested"


async def test_a_stop_nobody_asked_for_is_external() -> None:
    async with sim_api(training_seconds=60, stopping_seconds=0.05) as api:
        train = Job(TrainingLogic(), api)
        request, started = await train.run(
            _raw(
                {
                    "job_id": "train-2",
                    "op": "train_model",
                    "dataset_id": seed.COMPLETED_DATASET_ID,
                    "model": {"name": "stopped-by-hand", "training_version": "light"},
                }
            )
        )
        assert isinstance(started, Watching)
        await api.stop_training(started.target_id)  # someone else, not a stop job of ours
        ended, _ = await train.watch(request, started)

    assert cast(Any, ended.event.data).reason == "external"


class _Killed(BaseException):
    """The worker process dies: nothing in the logic may catch it."""


class _DiesAfter:
    """The API, until ``uploads`` images are uploaded; then the process dies."""

    def __init__(self, api: BriaApi, uploads: int) -> None:
        self._api = api
        self._left = uploads

    def __getattr__(self, name: str) -> Any:
        return getattr(self._api, name)

    async def upload_image(self, *args: Any, **kwargs: Any) -> Any:
        if self._left <= 0:
            raise _Killed
        self._left -= 1
        return await self._api.upload_image(*args, **kwargs)


async def test_ingest_counts_survive_a_worker_kill_mid_upload() -> None:
    images = [
        {"image_name": f"img-{i}.png", "url": f"{ASSETS}/mascot/cat-{i % 5 + 1}.png"}
        for i in range(8)
    ]
    body = {
        "job_id": "ingest-kill",
        "op": "ingest_images",
        "project_id": seed.PROJECT_ID,
        "dataset": {"name": "killed-midway"},
        "images": images,
        "progress_every": 100,
    }
    facts = MemoryFacts()
    async with sim_api() as api:
        first = Job(IngestLogic(), cast(BriaApi, _DiesAfter(api, uploads=3)), facts)
        with pytest.raises(_Killed):
            await first.run(_raw(body))
        assert len(cast(list[str], facts.values["ingest-uploads:ingest-kill"]["image_names"])) == 3

        # The request is redelivered to a fresh process, which knows nothing but the facts.
        second = Job(IngestLogic(), api, facts)
        _, outcome = await second.run(_raw(body))

    assert isinstance(outcome, Completed)
    data = cast(Any, outcome.event.data)
    assert (data.total, data.uploaded, data.skipped) == (8, 8, 0)
    assert {image.outcome for image in data.images} == {"uploaded"}


async def test_the_failure_event_of_a_retried_ingest_counts_every_attempt_s_uploads() -> None:
    images = [{"image_name": f"img-{i}.png", "url": f"{ASSETS}/mascot/cat-1.png"} for i in range(4)]
    body = {
        "job_id": "ingest-fail",
        "op": "ingest_images",
        "project_id": seed.PROJECT_ID,
        "dataset": {"name": "fails-later"},
        "images": images,
    }
    facts = MemoryFacts()
    async with sim_api() as api:
        first = Job(IngestLogic(), cast(BriaApi, _DiesAfter(api, uploads=2)), facts)
        with pytest.raises(_Killed):
            await first.run(_raw(body))
        logic = IngestLogic()
        second = Job(logic, cast(BriaApi, _DiesAfter(api, uploads=1)), facts)
        with pytest.raises(_Killed):
            await second.run(_raw(body))
        failure = logic.failure_data(logic.parse(_raw(body)))

    assert cast(dict[str, Any], failure)["uploaded"] == 3


def test_the_operations_table_keeps_facts_apart_from_watches() -> None:
    table = OperationsTable(cast(Any, None), "bria.training.operations")
    fact = FactRecord(name="training-stop:7", value={"job_id": "stop-1"})
    table._apply(fact_key(fact.name).encode(), fact.model_dump_json().encode(), 0, 1_000)
    assert table.fact("training-stop:7") == fact
    assert table.watches_in([0]) == []
    assert table.facts_before(2.0, [0]) == ["training-stop:7"]
    table._apply(fact_key(fact.name).encode(), None, 0, 2_000)
    assert table.fact("training-stop:7") is None
