"""Caption events (topic ``bria.caption.events``)."""

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field

from bria_fleet_contracts._base import EntityId
from bria_fleet_contracts.envelope import EventBase, EventData, EventError
from bria_fleet_contracts.topics import Domain

CaptionOp = Literal[
    "generate_prefix",
    "generate_visual_schema",
    "refine_structured_prompt",
    "regenerate_all_captions",
    "update_caption",
    "caption_media",
]


class CaptionResult(EventData):
    """Base of the per-op results of ``caption.completed``."""


class PrefixResult(CaptionResult):
    """A generated caption prefix, set on ``dataset_id`` when one was given."""

    op: Literal["generate_prefix"] = "generate_prefix"
    caption_prefix: str
    dataset_id: EntityId | None = None


class VisualSchemaResult(CaptionResult):
    """A generated visual schema (JSON string), set on ``dataset_id`` when one was given."""

    op: Literal["generate_visual_schema"] = "generate_visual_schema"
    visual_schema: str
    dataset_id: EntityId | None = None


class RefinedPromptResult(CaptionResult):
    """A refined structured prompt, and where it was written, if anywhere."""

    op: Literal["refine_structured_prompt"] = "refine_structured_prompt"
    structured_prompt: str
    dataset_id: EntityId
    applied_to: Literal["visual_schema", "image_caption"] | None = None
    image_id: EntityId | None = None


class CaptionsRegeneratedResult(CaptionResult):
    """Every caption of the dataset was regenerated (captions_update_status completed)."""

    op: Literal["regenerate_all_captions"] = "regenerate_all_captions"
    dataset_id: EntityId
    images_count: int | None = Field(default=None, ge=0)
    captions: dict[str, str] = Field(
        default_factory=dict,
        description="Each image's caption after the regeneration, by image id.",
    )


class CaptionUpdatedResult(CaptionResult):
    """One image's caption as it now stands."""

    op: Literal["update_caption"] = "update_caption"
    dataset_id: EntityId
    image_id: EntityId
    caption: str | None = None
    caption_source: Literal["automatic", "manual", "unknown"] | None = None


class MediaCaptionResult(CaptionResult):
    """A standalone image or video caption; ``raw`` is the provider's result as returned."""

    op: Literal["caption_media"] = "caption_media"
    media_url: str
    kind: Literal["image", "video"]
    caption: str | None = None
    tags: list[str] = Field(default_factory=list)
    raw: Any = None


CaptionCompletedData = Annotated[
    PrefixResult
    | VisualSchemaResult
    | RefinedPromptResult
    | CaptionsRegeneratedResult
    | CaptionUpdatedResult
    | MediaCaptionResult,
    Field(discriminator="op"),
]


class CaptionFailedData(EventData):
    """What the failed job was about."""

    op: CaptionOp | None = Field(default=None, description="None when the request did not parse.")
    dataset_id: EntityId | None = None
    image_id: EntityId | None = None


class CaptionEventBase(EventBase):
    """Base of caption events."""

    domain: ClassVar[Domain] = "caption"


class CaptionCompletedEvent(CaptionEventBase):
    """Terminal: the op's result, discriminated by ``data.op``."""

    terminal: ClassVar[bool] = True
    type: Literal["caption.completed"] = "caption.completed"
    data: CaptionCompletedData


class CaptionFailedEvent(CaptionEventBase):
    """Terminal: the job failed; ``error`` says why."""

    terminal: ClassVar[bool] = True
    type: Literal["caption.failed"] = "caption.failed"
    data: CaptionFailedData
    error: EventError
