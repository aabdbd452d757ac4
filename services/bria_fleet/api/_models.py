"""What the API answers, as our own models: ids as ``str``, statuses as enums, extras kept."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from bria_fleet.api._status import (
    CaptionsStatus,
    DatasetStatus,
    ModelStatus,
    OperationState,
    ProjectStatus,
    normalise,
)

__all__ = [
    "ApiErrorDetail",
    "AsyncJob",
    "BulkUpload",
    "CaptionResult",
    "Dataset",
    "DatasetImage",
    "EntityId",
    "GeneratedAsset",
    "GenerationOutcome",
    "GenerationResult",
    "ModelDownload",
    "OperationKind",
    "OperationStatus",
    "Project",
    "StructuredData",
    "TailoredModel",
]


def _id_to_str(value: object) -> object:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    return value


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _keep_raw(data: Any, field: str, raw_field: str) -> Any:
    if isinstance(data, dict) and raw_field not in data and data.get(field) is not None:
        return {**data, raw_field: str(data[field])}
    return data


EntityId = Annotated[str, BeforeValidator(_id_to_str)]
"""An id: the engine's integers become decimal strings at the edge."""

StructuredData = dict[str, Any] | str
"""A visual schema or structured prompt: JSON as the API sent it (object or JSON text)."""


class _ApiModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, frozen=True)


class Project(_ApiModel):
    """A tailored-generation project: the IP that its datasets and models serve."""

    id: EntityId
    name: str = Field(default="", validation_alias=AliasChoices("project_name", "name"))
    description: str | None = Field(
        default=None, validation_alias=AliasChoices("project_description", "description")
    )
    ip_name: str | None = None
    ip_description: str | None = None
    ip_medium: str | None = None
    ip_type: str | None = None
    status: Annotated[ProjectStatus, BeforeValidator(lambda v: normalise(ProjectStatus, v))] = (
        ProjectStatus.UNKNOWN
    )
    created_at: datetime | None = None
    updated_at: datetime | None = None


class DatasetImage(_ApiModel):
    """One image of a dataset, with its caption."""

    id: EntityId
    dataset_id: EntityId | None = None
    caption: str | None = None
    caption_source: str | None = None
    image_name: str | None = Field(
        default=None, validation_alias=AliasChoices("image_name", "file_name", "name")
    )
    image_url: str | None = Field(default=None, validation_alias=AliasChoices("image_url", "url"))
    thumbnail_url: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Dataset(_ApiModel):
    """A dataset: images, their caption prefix or visual schema, and a status."""

    id: EntityId
    project_id: EntityId | None = None
    name: str = ""
    caption_prefix: str | None = None
    visual_schema: StructuredData | None = None
    status: Annotated[DatasetStatus, BeforeValidator(lambda v: normalise(DatasetStatus, v))] = (
        DatasetStatus.UNKNOWN
    )
    captions_update_status: Annotated[
        CaptionsStatus, BeforeValidator(lambda v: normalise(CaptionsStatus, v))
    ] = CaptionsStatus.UNKNOWN
    raw_captions_update_status: str | None = Field(
        default=None, description="as the API spelled it"
    )
    images_count: int | None = None
    images: list[DatasetImage] = Field(default_factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _raw(cls, data: Any) -> Any:
        return _keep_raw(data, "captions_update_status", "raw_captions_update_status")


class TailoredModel(_ApiModel):
    """A tailored model and its training status."""

    id: EntityId
    name: str = ""
    description: str | None = None
    status: Annotated[ModelStatus, BeforeValidator(lambda v: normalise(ModelStatus, v))] = (
        ModelStatus.UNKNOWN
    )
    raw_status: str | None = Field(default=None, description="the status as the API spelled it")
    training_version: Annotated[str | None, BeforeValidator(_lower)] = None
    training_mode: Annotated[str | None, BeforeValidator(_lower)] = Field(
        default=None, validation_alias=AliasChoices("training_mode", "training_method")
    )
    generation_prefix: str | None = None
    project_id: EntityId | None = None
    dataset_id: EntityId | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _raw(cls, data: Any) -> Any:
        return _keep_raw(data, "status", "raw_status")


class ModelDownload(_ApiModel):
    """Where to download a trained model, and what it was trained from."""

    url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("url", "download_url", "model_url", "presigned_url"),
    )
    base_model: Any = None
    prompt_prefix: str | None = Field(
        default=None, validation_alias=AliasChoices("prompt_prefix", "generation_prefix")
    )


class BulkUpload(_ApiModel):
    """What a bulk (zip) upload answered; fields beyond these are kept as extras."""

    dataset_id: EntityId | None = None
    uploaded: int | None = Field(
        default=None, validation_alias=AliasChoices("uploaded", "uploaded_count", "images_count")
    )
    images: list[DatasetImage] = Field(default_factory=list)


class GeneratedAsset(_ApiModel):
    """One generated image or vector."""

    url: str
    seed: int | None = None


class GenerationResult(_ApiModel):
    """A finished generation: the assets, the IP warning if any, and v2 prompt outputs."""

    assets: list[GeneratedAsset] = Field(default_factory=list)
    ip_warning: str | None = None
    structured_prompt: StructuredData | None = None
    prompt: str | None = None
    refined_prompt: str | None = None
    request_id: str | None = None


class AsyncJob(_ApiModel):
    """An accepted asynchronous request: read it with ``get_async_result(request_id)``."""

    request_id: str
    status_url: str | None = None


GenerationOutcome = GenerationResult | AsyncJob
"""A generation call returns the result (sync) or the job to watch (async)."""


class CaptionResult(_ApiModel):
    """A standalone image or video caption (Vision Studio); the raw result is kept."""

    caption: str | None = None
    tags: list[str] = Field(default_factory=list)
    raw: Any = None


class ApiErrorDetail(_ApiModel):
    """Why an operation failed, as the API said it."""

    code: str | None = None
    message: str = ""


class OperationKind(StrEnum):
    """Which long operation a status describes."""

    TRAINING = "training"
    CAPTION_UPDATE = "caption_update"
    GENERATION = "generation"


ResultT = TypeVar("ResultT")


class OperationStatus(BaseModel, Generic[ResultT]):
    """One read of a long operation: a normalised state, when it changed, result or error."""

    model_config = ConfigDict(frozen=True)

    kind: OperationKind
    id: str
    state: OperationState
    raw_status: str | None = None
    updated_at: datetime | None = None
    result: ResultT | None = None
    error: ApiErrorDetail | None = None

    @property
    def is_terminal(self) -> bool:
        """Whether the operation will not change state any more."""
        return self.state.is_terminal
