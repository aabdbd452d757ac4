"""Training requests: create, train and stop tailored models (topic ``bria.training.requests``)."""

from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, model_validator

from bria_fleet_contracts._base import EntityId, RequestModel, exactly_one
from bria_fleet_contracts.envelope import RequestBase
from bria_fleet_contracts.topics import Domain

TrainingVersion = Literal["light", "max", "fibo", "bria-2.3", "bria-3.2"]
"""``fibo`` trains a v2 model; the others are the legacy (v1) versions the documents name."""

TrainingMode = Literal["fully_automated", "expert"]

ModelStatus = Literal["created", "in_progress", "completed", "failed", "stopping", "stopped"]
"""A model's status, normalised from the APIs' spellings (``InProgress``, ``Training In
Progress``, ``COMPLETED``, ``ready`` ...)."""

DEFAULT_TRAINING_DEADLINE_SECONDS = 8 * 3600


class ModelSpec(RequestModel):
    """A model to find by name on the dataset, or create."""

    name: str = Field(min_length=1, max_length=255)
    training_version: TrainingVersion
    training_mode: TrainingMode | None = None
    description: str | None = Field(default=None, max_length=1000)


class TrainingRequestBase(RequestBase):
    """Base of training requests."""

    domain: ClassVar[Domain] = "training"


class TrainModelRequest(TrainingRequestBase):
    """Train a model on a dataset and watch it until a terminal status or the deadline.

    The model is an existing ``model_id`` or a ``model`` spec (found by name, else created).
    """

    op: Literal["train_model"] = "train_model"
    dataset_id: EntityId
    model_id: EntityId | None = None
    model: ModelSpec | None = None
    complete_dataset_if_needed: bool = Field(
        default=True, description="Mark a draft dataset completed before training."
    )
    deadline_seconds: int = Field(
        default=DEFAULT_TRAINING_DEADLINE_SECONDS,
        ge=60,
        le=7 * 24 * 3600,
        description="Give up (training.failed, code deadline_exceeded) after this long.",
    )

    @model_validator(mode="after")
    def _one_model(self) -> Self:
        exactly_one(self, "model_id", "model")
        return self


class StopTrainingRequest(TrainingRequestBase):
    """Stop a model's training; a model already stopped counts as success."""

    op: Literal["stop_training"] = "stop_training"
    model_id: EntityId


TrainingRequest = Annotated[TrainModelRequest | StopTrainingRequest, Field(discriminator="op")]
"""Any training request, discriminated by ``op``."""
