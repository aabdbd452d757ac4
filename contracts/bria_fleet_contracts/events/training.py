"""Training events (topic ``bria.training.events``)."""

from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from bria_fleet_contracts._base import EntityId
from bria_fleet_contracts.envelope import EventBase, EventData, EventError
from bria_fleet_contracts.topics import Domain
from bria_fleet_contracts.training import ModelStatus, TrainingVersion

TrainingOp = Literal["train_model", "stop_training"]


class TrainingStartedData(EventData):
    """Training began; the watcher follows it until ``deadline_at``."""

    model_id: EntityId
    dataset_id: EntityId
    training_version: TrainingVersion | None = None
    started_at: AwareDatetime
    deadline_at: AwareDatetime


class TrainingStatusChangedData(EventData):
    """The model's status changed; the discriminator is the new ``status``."""

    model_id: EntityId
    previous_status: ModelStatus | None = None
    status: ModelStatus
    raw_status: str | None = Field(default=None, description="The status as the API spelled it.")


class TrainingCompletedData(EventData):
    """The trained model, ready to generate with."""

    model_id: EntityId
    dataset_id: EntityId
    training_version: TrainingVersion | None = None
    duration_seconds: float = Field(ge=0)


class TrainingFailedData(EventData):
    """What the failed job was about, and the model's last known status."""

    op: TrainingOp | None = Field(default=None, description="None when the request did not parse.")
    model_id: EntityId | None = None
    dataset_id: EntityId | None = None
    status: ModelStatus | None = None


class TrainingStoppedData(EventData):
    """Training was stopped: by a stop_training request, or outside the fleet."""

    model_id: EntityId
    dataset_id: EntityId | None = None
    duration_seconds: float | None = Field(default=None, ge=0)
    reason: Literal["requested", "external"]


class TrainingEventBase(EventBase):
    """Base of training events."""

    domain: ClassVar[Domain] = "training"


class TrainingStartedEvent(TrainingEventBase):
    """The model was created or found, and its training started."""

    type: Literal["training.started"] = "training.started"
    data: TrainingStartedData


class TrainingStatusChangedEvent(TrainingEventBase):
    """A status change seen by the watcher (not one per poll)."""

    type: Literal["training.status_changed"] = "training.status_changed"
    data: TrainingStatusChangedData


class TrainingCompletedEvent(TrainingEventBase):
    """Terminal: the model is trained."""

    terminal: ClassVar[bool] = True
    type: Literal["training.completed"] = "training.completed"
    data: TrainingCompletedData


class TrainingFailedEvent(TrainingEventBase):
    """Terminal: training failed or ran past its deadline; ``error`` says why."""

    terminal: ClassVar[bool] = True
    type: Literal["training.failed"] = "training.failed"
    data: TrainingFailedData
    error: EventError


class TrainingStoppedEvent(TrainingEventBase):
    """Terminal: training was stopped."""

    terminal: ClassVar[bool] = True
    type: Literal["training.stopped"] = "training.stopped"
    data: TrainingStoppedData
