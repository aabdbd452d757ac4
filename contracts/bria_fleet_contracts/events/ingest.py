"""Ingest events (topic ``bria.ingest.events``)."""

from typing import ClassVar, Literal

from pydantic import Field

from bria_fleet_contracts._base import EntityId, EventModel
from bria_fleet_contracts.envelope import EventBase, EventData, EventError
from bria_fleet_contracts.topics import Domain

IngestOp = Literal["ingest_images", "complete_dataset"]


class ImageFailure(EventModel):
    """An image that could not be uploaded; the job still completes with the others."""

    image_name: str
    code: str
    message: str


class ImageOutcome(EventModel):
    """What happened to one image: uploaded now, skipped (already there), or rejected."""

    image_name: str
    outcome: Literal["uploaded", "skipped", "rejected"]
    image_id: EntityId | None = Field(default=None, description="None when rejected.")
    caption: str | None = Field(default=None, description="The caption the API gave, if any.")


class IngestProgressData(EventData):
    """Counts so far; ``processed`` = ``uploaded`` + ``skipped`` + ``failed``."""

    project_id: EntityId | None = None
    dataset_id: EntityId
    total: int = Field(ge=0)
    processed: int = Field(ge=0)
    uploaded: int = Field(ge=0)
    skipped: int = Field(ge=0, description="Already in the dataset, by image_name.")
    failed: int = Field(ge=0)


class IngestCompletedData(EventData):
    """The dataset the images are in, and what happened to them."""

    op: IngestOp
    project_id: EntityId | None = None
    dataset_id: EntityId
    dataset_status: Literal["draft", "completed"]
    total: int = Field(ge=0)
    uploaded: int = Field(ge=0)
    skipped: int = Field(ge=0)
    failed_images: list[ImageFailure] = Field(default_factory=list)
    image_ids: dict[str, EntityId] = Field(
        default_factory=dict, description="image_name -> image id, where known."
    )
    images: list[ImageOutcome] = Field(
        default_factory=list,
        description="Each image's outcome, in request order; reasons of rejected ones are in "
        "failed_images.",
    )


class IngestFailedData(EventData):
    """How far the job got before it failed."""

    op: IngestOp | None = Field(default=None, description="None when the request did not parse.")
    project_id: EntityId | None = None
    dataset_id: EntityId | None = None
    uploaded: int = Field(default=0, ge=0)


class IngestEventBase(EventBase):
    """Base of ingest events."""

    domain: ClassVar[Domain] = "ingest"


class IngestProgressEvent(IngestEventBase):
    """Every ``progress_every`` images; the discriminator is ``processed``."""

    type: Literal["ingest.progress"] = "ingest.progress"
    data: IngestProgressData


class IngestCompletedEvent(IngestEventBase):
    """Terminal: the images are in the dataset (and it is completed if asked)."""

    terminal: ClassVar[bool] = True
    type: Literal["ingest.completed"] = "ingest.completed"
    data: IngestCompletedData


class IngestFailedEvent(IngestEventBase):
    """Terminal: the job failed; ``error`` says why."""

    terminal: ClassVar[bool] = True
    type: Literal["ingest.failed"] = "ingest.failed"
    data: IngestFailedData
    error: EventError
