"""Ingest requests: bring images into a dataset (topic ``bria.ingest.requests``)."""

from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, field_validator, model_validator

from bria_fleet_contracts._base import (
    Base64Data,
    EntityId,
    HttpUrl,
    JsonObjectString,
    RequestModel,
    exactly_one,
)
from bria_fleet_contracts.envelope import RequestBase
from bria_fleet_contracts.topics import Domain

IpType = Literal[
    "multi_object_set",
    "object_variants",
    "icons",
    "defined_character",
    "character_variants",
    "stylized_scene",
    "style",
]
"""Engine IP types; ``style`` is Vision Studio's name for a stylized scene."""

IpMedium = Literal["photography", "illustration"]

MAX_IMAGES_PER_DATASET = 200
"""The documented maximum of individually uploaded images; larger sets go by bulk zip."""


class ProjectSpec(RequestModel):
    """A project to find by name, or create if there is none."""

    name: str = Field(min_length=1, max_length=255)
    ip_type: IpType
    ip_medium: IpMedium
    ip_name: str | None = Field(default=None, max_length=255)
    ip_description: str | None = Field(default=None, max_length=1000)
    description: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _ip_name_for_characters(self) -> Self:
        if self.ip_type == "defined_character" and not self.ip_name:
            raise ValueError("ip_name is required when ip_type is defined_character")
        return self


class DatasetSpec(RequestModel):
    """A dataset to find by name in the project, or create; optionally set up before upload."""

    name: str = Field(min_length=1, max_length=255)
    caption_prefix: str | None = Field(
        default=None, min_length=1, max_length=255, description="Legacy (light/max) caption prefix."
    )
    visual_schema: JsonObjectString | None = Field(
        default=None, description="FIBO visual schema, as from generate_visual_schema."
    )

    @model_validator(mode="after")
    def _one_captioning_scheme(self) -> Self:
        if self.caption_prefix is not None and self.visual_schema is not None:
            raise ValueError("give caption_prefix (legacy) or visual_schema (FIBO), not both")
        return self


class DatasetImage(RequestModel):
    """One image to upload: a name unique within the job, and a URL or base64 content."""

    image_name: str = Field(min_length=1, max_length=255)
    url: HttpUrl | None = None
    base64: Base64Data | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        exactly_one(self, "url", "base64")
        return self


class IngestRequestBase(RequestBase):
    """Base of ingest requests."""

    domain: ClassVar[Domain] = "ingest"


class IngestImagesRequest(IngestRequestBase):
    """Find or create the project and dataset, upload the images not already there.

    The dataset is given by ``dataset_id`` or by a ``dataset`` spec; with a spec, the
    project is given by ``project_id`` or a ``project`` spec. Images whose ``image_name``
    is already in the dataset are skipped. Large sets go through ``bulk_zip_url``.
    """

    op: Literal["ingest_images"] = "ingest_images"
    project_id: EntityId | None = None
    project: ProjectSpec | None = None
    dataset_id: EntityId | None = None
    dataset: DatasetSpec | None = None
    images: list[DatasetImage] = Field(default_factory=list, max_length=MAX_IMAGES_PER_DATASET)
    bulk_zip_url: HttpUrl | None = Field(
        default=None, description="A zip of images, uploaded through the v2 bulk route."
    )
    complete_dataset: bool = Field(default=False, description="Mark the dataset completed.")
    progress_every: int = Field(default=10, ge=1, description="Emit ingest.progress every N.")
    content_moderation: bool | None = None

    @field_validator("images")
    @classmethod
    def _unique_names(cls, images: list[DatasetImage]) -> list[DatasetImage]:
        names = [image.image_name for image in images]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"image_name must be unique within the job: {', '.join(repeated)}")
        return images

    @model_validator(mode="after")
    def _where_to(self) -> Self:
        exactly_one(self, "dataset_id", "dataset")
        if self.dataset_id is not None:
            if self.project_id is not None or self.project is not None:
                raise ValueError("with dataset_id, give neither project_id nor project")
        else:
            exactly_one(self, "project_id", "project")
        if self.bulk_zip_url is not None and self.images:
            raise ValueError("give images or bulk_zip_url, not both")
        return self


class CompleteDatasetRequest(IngestRequestBase):
    """Mark a dataset completed (it then accepts no more uploads)."""

    op: Literal["complete_dataset"] = "complete_dataset"
    dataset_id: EntityId


IngestRequest = Annotated[IngestImagesRequest | CompleteDatasetRequest, Field(discriminator="op")]
"""Any ingest request, discriminated by ``op``."""
