"""What a model's state means for a training job: statuses, events, terminal outcomes."""

from datetime import UTC, datetime
from typing import Literal, cast, get_args

from bria_fleet.api import ModelStatus, TailoredModel
from bria_fleet.runtime.outcomes import Completed, EventSpec, JobError
from bria_fleet.runtime.records import utcnow
from bria_fleet_contracts import (
    TrainingCompletedData,
    TrainingStatusChangedData,
    TrainingStoppedData,
    TrainingVersion,
)
from bria_fleet_contracts.training import ModelStatus as ReportedStatus

StopReason = Literal["requested", "external"]
_REPORTED: frozenset[str] = frozenset(get_args(ReportedStatus))
_VERSIONS: frozenset[str] = frozenset(get_args(TrainingVersion))


def reported(model: TailoredModel) -> ReportedStatus | None:
    """The model's status as events spell it (``None`` for deleted or unknown)."""
    value = model.status.value
    return cast(ReportedStatus, value) if value in _REPORTED else None


def version_of(*candidates: str | None) -> TrainingVersion | None:
    """The first candidate that is a training version events may name."""
    found = next((c for c in candidates if c in _VERSIONS), None)
    return cast(TrainingVersion | None, found)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _duration(model: TailoredModel, since: datetime | None) -> float:
    """From ``since`` (else the model's creation) to the model's last change, per the API."""
    end = _aware(model.updated_at) if model.updated_at else utcnow()
    start = since or model.created_at or end
    return max(0.0, (end - _aware(start)).total_seconds())


def status_changed(model: TailoredModel, previous: str | None) -> tuple[EventSpec, ...]:
    """A ``training.status_changed`` event if the model's status is not ``previous``."""
    status = reported(model)
    if status is None or status == previous:
        return ()
    data = TrainingStatusChangedData(
        model_id=model.id,
        previous_status=cast(ReportedStatus | None, previous),
        status=status,
        raw_status=model.raw_status,
    )
    return (EventSpec("training.status_changed", data, discriminator=status),)


def end_of_training(
    model: TailoredModel,
    *,
    dataset_id: str | None,
    since: datetime | None,
    reason: StopReason,
    version: str | None = None,
) -> Completed | None:
    """The job's terminal outcome if the model's training is over, else ``None``.

    Raises :class:`JobError` (``training.failed``) when the training failed.
    """
    match model.status:
        case ModelStatus.COMPLETED:
            if dataset_id is None:
                raise JobError(
                    "invalid_response", f"the API did not say model {model.id}'s dataset"
                )
            data = TrainingCompletedData(
                model_id=model.id,
                dataset_id=dataset_id,
                training_version=version_of(model.training_version, version),
                duration_seconds=_duration(model, since),
            )
            event = EventSpec("training.completed", data)
            return Completed(event, values=data.placeholders(), completed_at=model.updated_at)
        case ModelStatus.STOPPED:
            stopped = TrainingStoppedData(
                model_id=model.id,
                dataset_id=dataset_id,
                duration_seconds=_duration(model, since) if since else None,
                reason=reason,
            )
            return Completed(EventSpec("training.stopped", stopped), completed_at=model.updated_at)
        case ModelStatus.FAILED:
            raise JobError(
                "training_failed",
                f"the training of model {model.id} failed (API status {model.raw_status!r})",
                completed_at=model.updated_at,
            )
        case ModelStatus.DELETED:
            raise JobError("model_deleted", f"model {model.id} was deleted")
    return None
