"""What a worker asks for: typed request models, independent of the backend's wire format.

Generation requests accept fields beyond the documented ones (``extra="allow"``); those are
sent as they are, so a new API parameter needs no client release.
"""

from __future__ import annotations

import base64
import json
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bria_fleet.api._models import StructuredData

__all__ = [
    "AspectRatio",
    "GuidanceMethod",
    "ImageCaptionRequest",
    "ImagePrompt",
    "ImageSource",
    "ReimagineRequest",
    "RestylePortraitRequest",
    "TailoredImageRequest",
    "V2ImageRequest",
    "V2StructuredPromptRequest",
    "VideoCaptionRequest",
    "structured_text",
]

AspectRatio = Literal["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9"]
ControlNet = Literal[
    "controlnet_canny", "controlnet_depth", "controlnet_recoloring", "controlnet_color_grid"
]


class ImageSource(BaseModel):
    """An input image: exactly one of a public URL or base64 data."""

    model_config = ConfigDict(frozen=True)

    url: str | None = None
    base64: str | None = Field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> ImageSource:
        """An image the API fetches itself."""
        return cls(url=url)

    @classmethod
    def from_base64(cls, data: str) -> ImageSource:
        """An image already base64-encoded."""
        return cls(base64=data)

    @classmethod
    def from_bytes(cls, data: bytes) -> ImageSource:
        """An image file's bytes (encoded to base64 for JSON bodies)."""
        return cls(base64=base64.b64encode(data).decode("ascii"))

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.url is None) == (self.base64 is None):
            raise ValueError("an image source needs exactly one of url or base64")
        return self


class _Request(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class GuidanceMethod(BaseModel):
    """A ControlNet guidance: method, scale (0-1) and its guidance image."""

    model_config = ConfigDict(frozen=True)

    method: ControlNet
    scale: float = Field(default=1.0, ge=0.0, le=1.0)
    image: ImageSource


class ImagePrompt(BaseModel):
    """The image prompt adapter: mode, scale (0-1), one base64 image or image URLs."""

    model_config = ConfigDict(frozen=True)

    mode: Literal["regular", "style_only"] = "regular"
    scale: float = Field(default=1.0, ge=0.0, le=1.0)
    image_base64: str | None = Field(default=None, repr=False)
    image_urls: list[str] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.image_base64 is None) == (not self.image_urls):
            raise ValueError("an image prompt needs exactly one of image_base64 or image_urls")
        return self


class TailoredImageRequest(_Request):
    """v1 text-to-image or text-to-vector with a tailored model (Vision Studio: LoRA)."""

    prompt: str
    num_results: int | None = Field(default=None, ge=1, le=4)
    aspect_ratio: AspectRatio | None = None
    sync: bool = True
    seed: int | None = None
    steps_num: int | None = Field(default=None, ge=1, le=50)
    fast: bool | None = None
    model_influence: float | None = Field(default=None, ge=0.0, le=1.0)
    include_generation_prefix: bool | None = None
    negative_prompt: str | None = None
    text_guidance_scale: float | None = Field(default=None, ge=1.0, le=10.0)
    guidance_methods: list[GuidanceMethod] = Field(default_factory=list, max_length=2)
    image_prompt: ImagePrompt | None = None
    content_moderation: bool | None = None
    prompt_content_moderation: bool | None = None
    bria_model_version: str | None = None


class ReimagineRequest(_Request):
    """Structure-reference generation with a tailored model (reimagine)."""

    prompt: str
    structure_image: ImageSource | None = None
    structure_ref_influence: float | None = Field(default=None, ge=0.0, le=1.0)
    tailored_model_influence: float | None = Field(default=None, ge=0.0, le=1.0)
    num_results: int | None = Field(default=None, ge=1, le=4)
    sync: bool = True
    seed: int | None = None
    steps_num: int | None = Field(default=None, ge=1, le=50)
    fast: bool | None = None
    include_generation_prefix: bool | None = None
    content_moderation: bool | None = None
    prompt_content_moderation: bool | None = None


class RestylePortraitRequest(_Request):
    """Restyle a portrait with a tailored model, keeping the person's identity."""

    tailored_model_id: str
    id_image: ImageSource
    tailored_model_influence: float | None = Field(default=None, ge=0.0, le=1.0)
    id_strength: float | None = Field(default=None, ge=0.0, le=1.0)
    seed: int | None = None
    content_moderation: bool | None = None


class V2ImageRequest(_Request):
    """``/v2/image/generate/tailored`` (FIBO models only).

    One of: ``prompt``; ``structured_prompt`` with ``seed`` (recreate); both (refine).
    """

    tailored_model_id: str
    prompt: str | None = None
    structured_prompt: StructuredData | None = None
    seed: int | None = None
    tailored_model_influence: float | None = Field(default=None, ge=0.0, le=1.5)
    aspect_ratio: AspectRatio | None = None
    negative_prompt: str | None = None
    steps_num: int | None = None
    sync: bool = False
    webhook_url: str | None = None
    prompt_content_moderation: bool | None = None
    content_moderation: bool | None = None

    @model_validator(mode="after")
    def _combination(self) -> Self:
        if self.prompt is None and self.structured_prompt is None:
            raise ValueError("give a prompt, a structured_prompt, or both")
        if self.prompt is None and self.seed is None:
            raise ValueError("recreating from a structured_prompt alone needs its seed")
        return self


class V2StructuredPromptRequest(_Request):
    """``/v2/structured_prompt/generate/tailored``: text, or structured prompt plus text."""

    tailored_model_id: str
    prompt: str
    structured_prompt: StructuredData | None = None
    seed: int | None = None
    sync: bool = False
    webhook_url: str | None = None


class ImageCaptionRequest(_Request):
    """Caption a standalone image by URL (Vision Studio ``/api/v1/caption/image``)."""

    image_url: str
    mode: Literal["simple", "expert", "image_tagging"] = "simple"
    model_provider: Literal["openai", "gemini"] = "openai"
    nbr_tags: int | None = Field(default=None, ge=1, le=20)
    possible_tags: list[str] | None = None


class VideoCaptionRequest(_Request):
    """Caption a video by URL (Vision Studio ``/api/v1/caption/video``)."""

    video_url: str
    mode: Literal[
        "simple",
        "expert",
        "detailed",
        "tagging",
        "segment_timestamps",
        "segment_timestamps_descriptive",
        "segment_timestamps_tags",
    ] = "simple"
    nbr_tags: int | None = Field(default=None, ge=1, le=20)


def structured_text(value: StructuredData) -> str:
    """A structured prompt as the JSON text the v2 routes take."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
