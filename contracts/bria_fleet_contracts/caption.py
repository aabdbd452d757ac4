"""Caption requests: prefixes, visual schemas, captions (topic ``bria.caption.requests``)."""

from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, model_validator

from bria_fleet_contracts._base import EntityId, HttpUrl, ImageRef, JsonObjectString
from bria_fleet_contracts.envelope import RequestBase
from bria_fleet_contracts.topics import Domain

PrefixIpType = Literal["stylized_scene", "defined_character", "object_variants"]
"""The IP types for which the engine generates an advanced caption prefix."""

ImageCaptionMode = Literal["simple", "expert", "image_tagging"]
VideoCaptionMode = Literal[
    "simple",
    "expert",
    "detailed",
    "tagging",
    "segment_timestamps",
    "segment_timestamps_descriptive",
    "segment_timestamps_tags",
]
LlmProvider = Literal["openai", "gemini"]


class CaptionRequestBase(RequestBase):
    """Base of caption requests."""

    domain: ClassVar[Domain] = "caption"


class GeneratePrefixRequest(CaptionRequestBase):
    """Generate a legacy caption prefix from 1-6 sample images; optionally set it on a dataset.

    The engine takes the samples either all as URLs or all as base64, so they must not mix.
    """

    op: Literal["generate_prefix"] = "generate_prefix"
    images: list[ImageRef] = Field(min_length=1, max_length=6)
    ip_type: PrefixIpType | None = Field(
        default=None, description="The project's IP type; looked up from dataset_id if omitted."
    )
    dataset_id: EntityId | None = Field(default=None, description="Dataset to set the prefix on.")
    content_moderation: bool | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        if len({image.kind for image in self.images}) > 1:
            raise ValueError("images must be all URLs or all base64, not a mix")
        return self


class GenerateVisualSchemaRequest(CaptionRequestBase):
    """Generate a FIBO visual schema from 5-10 sample images; optionally set it on a dataset."""

    op: Literal["generate_visual_schema"] = "generate_visual_schema"
    images: list[ImageRef] = Field(min_length=5, max_length=10)
    dataset_id: EntityId | None = Field(default=None, description="Dataset to set it on.")
    content_moderation: bool | None = None


class RefineStructuredPromptRequest(CaptionRequestBase):
    """Refine a visual schema or an image caption with a natural-language instruction.

    The dataset must be a draft. With ``apply_to``, the result is written back: to the
    dataset's visual schema, or to the caption of ``image_id``.
    """

    op: Literal["refine_structured_prompt"] = "refine_structured_prompt"
    dataset_id: EntityId
    structured_prompt: JsonObjectString
    instruction: str = Field(min_length=1)
    context_images: list[ImageRef] = Field(default_factory=list)
    apply_to: Literal["visual_schema", "image_caption"] | None = None
    image_id: EntityId | None = None

    @model_validator(mode="after")
    def _target(self) -> Self:
        if self.apply_to == "image_caption" and self.image_id is None:
            raise ValueError("apply_to image_caption needs image_id")
        if self.apply_to != "image_caption" and self.image_id is not None:
            raise ValueError("image_id is only used with apply_to image_caption")
        return self


class RegenerateAllCaptionsRequest(CaptionRequestBase):
    """Regenerate every caption of a dataset and wait until captions_update_status completes."""

    op: Literal["regenerate_all_captions"] = "regenerate_all_captions"
    dataset_id: EntityId


class UpdateCaptionRequest(CaptionRequestBase):
    """Set one image's caption, or regenerate it: exactly one of ``caption``, ``regenerate``."""

    op: Literal["update_caption"] = "update_caption"
    dataset_id: EntityId
    image_id: EntityId
    caption: str | None = Field(default=None, min_length=1)
    regenerate: bool = False

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        if (self.caption is not None) == self.regenerate:
            raise ValueError("give exactly one of caption or regenerate: true")
        return self


class CaptionMediaRequest(CaptionRequestBase):
    """Caption a standalone image or video (Vision Studio ``/api/v1/caption/...``)."""

    op: Literal["caption_media"] = "caption_media"
    media_url: HttpUrl
    kind: Literal["image", "video"]
    mode: ImageCaptionMode | VideoCaptionMode | None = None
    model_provider: LlmProvider | None = Field(default=None, description="Images only.")
    nbr_tags: int | None = Field(default=None, ge=1, le=20, description="Tagging modes only.")
    possible_tags: list[str] | None = Field(default=None, description="image_tagging only.")

    @model_validator(mode="after")
    def _fits_kind(self) -> Self:
        if self.kind == "image":
            if self.mode is not None and self.mode not in ("simple", "expert", "image_tagging"):
                raise ValueError(
                    f"mode {self.mode} is for videos; image modes: simple, expert, image_tagging"
                )
        else:
            if self.mode == "image_tagging":
                raise ValueError("mode image_tagging is for images; use tagging for videos")
            if self.model_provider is not None or self.possible_tags is not None:
                raise ValueError("model_provider and possible_tags apply to images only")
        return self


CaptionRequest = Annotated[
    GeneratePrefixRequest
    | GenerateVisualSchemaRequest
    | RefineStructuredPromptRequest
    | RegenerateAllCaptionsRequest
    | UpdateCaptionRequest
    | CaptionMediaRequest,
    Field(discriminator="op"),
]
"""Any caption request, discriminated by ``op``."""
