"""The training domain's logic and the watch kinds that follow its models."""

from collections import OrderedDict
from datetime import timedelta
from typing import Any, cast

from bria_fleet.api import BriaApiError, Conflict, ModelStatus, TailoredModel
from bria_fleet.runtime.outcomes import (
    Completed,
    EventData,
    EventSpec,
    Facts,
    JobContext,
    JobError,
    LogicBase,
    PollInput,
    StillRunning,
    Watching,
)
from bria_fleet.runtime.records import utcnow
from bria_fleet.workers.training._outcomes import (
    StopReason,
    end_of_training,
    reported,
    status_changed,
    version_of,
)
from bria_fleet.workers.training._steps import (
    NOT_STARTED,
    ensure_dataset_completed,
    existing_model,
    find_or_create_model,
    start_training,
)
from bria_fleet_contracts import (
    StopTrainingRequest,
    TrainingFailedData,
    TrainingRequest,
    TrainingStartedData,
    TrainModelRequest,
)
from bria_fleet_contracts.training import ModelStatus as ReportedStatus

TRAINING_KIND = "training"
STOP_KIND = "training_stop"


def stop_fact(model_id: str) -> str:
    """The name of the fact that a ``stop_training`` job asked to stop ``model_id``."""
    return f"training-stop:{model_id}"


async def stop_reason(facts: Facts, model: TailoredModel) -> StopReason:
    """Why a stopped model stopped: ``requested`` if a stop job of ours asked, on any replica.

    The fact is read only for a stopped model: reading it waits for the operations table.
    """
    if model.status is not ModelStatus.STOPPED:
        return "external"
    return "requested" if await facts.get(stop_fact(model.id)) is not None else "external"


class _Memory:
    """The model and last status of each job this process saw.

    For failure events of jobs whose request names no model; lost on restart, when failure
    events say what the request says.
    """

    def __init__(self, size: int = 10_000) -> None:
        self._size = size
        self._jobs: OrderedDict[str, tuple[str, str | None]] = OrderedDict()

    def note(self, job_id: str, model: TailoredModel) -> None:
        self._put(self._jobs, job_id, (model.id, reported(model)))

    def job(self, job_id: str) -> tuple[str | None, str | None]:
        return self._jobs.get(job_id, (None, None))

    def _put(self, table: OrderedDict[str, Any], key: str, value: Any) -> None:
        table[key] = value
        table.move_to_end(key)
        while len(table) > self._size:
            table.popitem(last=False)


class _TrainingWatch:
    """Follows a train job's model until Completed, Failed, Stopped or the deadline."""

    def __init__(self, memory: _Memory) -> None:
        self._memory = memory

    async def poll(self, poll: PollInput[TrainingRequest]) -> Completed | StillRunning:
        request = poll.request
        model = await poll.api.get_model(poll.target_id)
        self._memory.note(poll.job_id, model)
        train = request if isinstance(request, TrainModelRequest) else None
        version = train.model.training_version if train and train.model else None
        end = end_of_training(
            model,
            dataset_id=(train.dataset_id if train else None) or model.dataset_id,
            since=poll.started_at,
            reason=await stop_reason(poll.facts, model),
            version=version,
        )
        if end is not None:
            return end
        return StillRunning(reported(model) or poll.status, status_changed(model, poll.status))


class _StopWatch:
    """Follows a stop job's model from Stopping to its final status."""

    def __init__(self, memory: _Memory) -> None:
        self._memory = memory

    async def poll(self, poll: PollInput[TrainingRequest]) -> Completed | StillRunning:
        model = await poll.api.get_model(poll.target_id)
        self._memory.note(poll.job_id, model)
        end = end_of_training(model, dataset_id=model.dataset_id, since=None, reason="requested")
        if end is not None:
            return end
        return StillRunning(reported(model) or poll.status, status_changed(model, poll.status))


class TrainingLogic(LogicBase[TrainingRequest]):
    """The training domain: start or stop a training, then watch the model until it ends."""

    domain = "training"

    def __init__(self) -> None:
        self._memory = _Memory()
        super().__init__(
            {TRAINING_KIND: _TrainingWatch(self._memory), STOP_KIND: _StopWatch(self._memory)}
        )

    def deadline_seconds(self, request: TrainingRequest) -> float | None:
        """A train job's own deadline; a stop job's is the poll policy's."""
        return request.deadline_seconds if isinstance(request, TrainModelRequest) else None

    def failure_data(self, request: TrainingRequest) -> EventData:
        """The op, the model and dataset, and the model's last known status."""
        model_id, status = self._memory.job(request.job_id)
        data = TrainingFailedData(
            op=request.op,
            model_id=model_id or request.model_id,
            dataset_id=request.dataset_id if isinstance(request, TrainModelRequest) else None,
            status=cast(ReportedStatus | None, status),
        )
        return data.model_dump(mode="json")

    async def run(self, request: TrainingRequest, context: JobContext) -> Completed | Watching:
        """Train or stop; a training in progress becomes a watch."""
        if isinstance(request, StopTrainingRequest):
            return await self._stop(request, context)
        return await self._train(request, context)

    async def _train(self, request: TrainModelRequest, context: JobContext) -> Completed | Watching:
        api = context.api
        await ensure_dataset_completed(api, request)
        if request.model is not None:
            model = await find_or_create_model(api, request.dataset_id, request.model)
        else:
            model = await existing_model(api, str(request.model_id), request.dataset_id)
        self._memory.note(context.job_id, model)
        before = reported(model)
        if model.status in NOT_STARTED:
            model = await start_training(api, model)
            self._memory.note(context.job_id, model)
        version = request.model.training_version if request.model else None
        end = end_of_training(
            model,
            dataset_id=request.dataset_id,
            since=None,
            reason=await stop_reason(context.facts, model),
            version=version,
        )
        if end is not None:
            return end
        now = utcnow()
        started = TrainingStartedData(
            model_id=model.id,
            dataset_id=request.dataset_id,
            training_version=version_of(model.training_version, version),
            started_at=now,
            deadline_at=now + timedelta(seconds=request.deadline_seconds),
        )
        status = reported(model) or "in_progress"
        return Watching(
            kind=TRAINING_KIND,
            target_id=model.id,
            status=status,
            events=(EventSpec("training.started", started), *status_changed(model, before)),
        )

    async def _stop(
        self, request: StopTrainingRequest, context: JobContext
    ) -> Completed | Watching:
        api, model_id = context.api, request.model_id
        # Durable before the API is asked: the train job's watch, on whichever replica owns
        # it, may see the model stopped right after.
        await context.facts.put(stop_fact(model_id), {"job_id": context.job_id})
        try:
            model = await api.stop_training(model_id)
        except Conflict as conflict:
            # Already stopping or over: the stop ends in the model's real final status.
            model = await api.get_model(model_id)
            self._memory.note(context.job_id, model)
            if model.status in (*NOT_STARTED, ModelStatus.IN_PROGRESS):
                await context.facts.delete(stop_fact(model_id))
                if model.status is ModelStatus.CREATED:
                    raise JobError(
                        "not_in_training",
                        f"model {model_id} never started training: there is nothing to stop",
                        http_status=conflict.http_status,
                    ) from conflict
                raise
        except BriaApiError:
            await context.facts.delete(stop_fact(model_id))
            raise
        if model.status not in (ModelStatus.STOPPING, ModelStatus.IN_PROGRESS):
            model = await api.get_model(model_id)
        self._memory.note(context.job_id, model)
        end = end_of_training(model, dataset_id=model.dataset_id, since=None, reason="requested")
        if end is not None:
            return end
        return Watching(
            kind=STOP_KIND,
            target_id=model_id,
            status=reported(model) or "stopping",
        )
