"""Generation requests: images and vectors from tailored models (``bria.generation.requests``).

Optional parameters left unset (None) are not sent, so the API's own default applies.
"""

from typing import Annotated, ClassVar, Literal, Self

from pydantic import Field, model_validator

from bria_fleet_contracts._base import (
    AspectRatio,
    Base64Data,
    EntityId,
    HttpUrl,
    JsonObjectString,
    exactly_one,
)
from bria_fleet_contracts.envelope import RequestBase
from bria_fleet_contracts.topics import Domain

ControlNetMethod = Literal[
    "controlnet_canny", "controlnet_depth", "controlnet_recoloring", "controlnet_color_grid"
]
ImagePromptMode = Literal["regular", "style_only"]

Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Prompt = Annotated[str, Field(min_length=1, description="English only.")]


class GenerationRequestBase(RequestBase):
    """Base of generation requests: all use a tailored model."""

    domain: ClassVar[Domain] = "generation"

    model_id: EntityId


def _check_steps(steps_num: int | None, fast: bool | None) -> None:
    if fast is False and steps_num is not None and steps_num < 20:
        raise ValueError("steps_num must be 20-50 when fast is false")


class TailoredV1Base(GenerationRequestBase):
    """Parameters the v1 tailored routes share."""

    prompt: Prompt
    num_results: int | None = Field(default=None, ge=1, le=4)
    sync: bool | None = None
    seed: int | None = None
    model_influence: Unit | None = Field(default=None, description="Weight of the tailored model.")
    include_generation_prefix: bool | None = Field(
        default=None, description="Prepend the model's training prefix to the prompt."
    )
    content_moderation: bool | None = None
    prompt_content_moderation: bool | None = None
    ip_signal: bool | None = None


class GuidedV1Base(TailoredV1Base):
    """Text-to-image and text-to-vector: guidance by up to two ControlNets and an image prompt."""

    aspect_ratio: AspectRatio | None = None
    negative_prompt: str | None = None
    text_guidance_scale: float | None = Field(default=None, ge=1.0, le=10.0)
    guidance_method_1: ControlNetMethod | None = None
    guidance_method_1_scale: Unit | None = None
    guidance_method_1_image_url: HttpUrl | None = None
    guidance_method_1_image_file: Base64Data | None = None
    guidance_method_2: ControlNetMethod | None = None
    guidance_method_2_scale: Unit | None = None
    guidance_method_2_image_url: HttpUrl | None = None
    guidance_method_2_image_file: Base64Data | None = None
    image_prompt_mode: ImagePromptMode | None = None
    image_prompt_scale: Unit | None = None
    image_prompt_file: Base64Data | None = None
    image_prompt_urls: list[HttpUrl] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _check_guidance(self) -> Self:
        if self.guidance_method_2 is not None and self.guidance_method_1 is None:
            raise ValueError("guidance_method_2 needs guidance_method_1")
        for n in (1, 2):
            method = getattr(self, f"guidance_method_{n}")
            extras = ("_scale", "_image_url", "_image_file")
            given = [s for s in extras if getattr(self, f"guidance_method_{n}{s}") is not None]
            if method is None and given:
                names = ", ".join(f"guidance_method_{n}{s}" for s in given)
                raise ValueError(f"{names} given without guidance_method_{n}")
            if method is not None:
                exactly_one(
                    self, f"guidance_method_{n}_image_url", f"guidance_method_{n}_image_file"
                )
        prompt_extras = ("image_prompt_scale", "image_prompt_file", "image_prompt_urls")
        given = [name for name in prompt_extras if getattr(self, name) is not None]
        if self.image_prompt_mode is None and given:
            raise ValueError(f"{', '.join(given)} given without image_prompt_mode")
        if self.image_prompt_mode is not None:
            exactly_one(self, "image_prompt_file", "image_prompt_urls")
        return self


class TextToImageRequest(GuidedV1Base):
    """v1 ``/text-to-image/tailored/{model_id}``."""

    op: Literal["text_to_image"] = "text_to_image"
    fast: bool | None = None
    steps_num: int | None = Field(default=None, ge=4, le=50, description="20-50 if not fast.")

    @model_validator(mode="after")
    def _steps_fit_speed(self) -> Self:
        _check_steps(self.steps_num, self.fast)
        return self


class TextToVectorRequest(GuidedV1Base):
    """v1 ``/text-to-vector/tailored/{model_id}`` (illustrative models)."""

    op: Literal["text_to_vector"] = "text_to_vector"
    steps_num: int | None = Field(default=None, ge=20, le=50)


class ReimagineRequest(TailoredV1Base):
    """v1 structure reference: keep the reference image's structure, apply the model's style."""

    op: Literal["reimagine"] = "reimagine"
    structure_image_url: HttpUrl | None = None
    structure_image_file: Base64Data | None = None
    structure_ref_influence: Unit | None = None
    fast: bool | None = None
    steps_num: int | None = Field(default=None, ge=4, le=50, description="20-50 if not fast.")
    enhance_image: bool | None = None

    @model_validator(mode="after")
    def _check_inputs(self) -> Self:
        exactly_one(self, "structure_image_url", "structure_image_file")
        _check_steps(self.steps_num, self.fast)
        return self


class RestylePortraitRequest(GenerationRequestBase):
    """v1 ``/tailored-gen/restyle_portrait``: restyle a portrait, keeping the person's identity."""

    op: Literal["restyle_portrait"] = "restyle_portrait"
    id_image_url: HttpUrl | None = None
    id_image_file: Base64Data | None = None
    model_influence: Unit | None = Field(default=None, description="Weight of the tailored model.")
    id_strength: Unit | None = None
    seed: int | None = None

    @model_validator(mode="after")
    def _one_image(self) -> Self:
        exactly_one(self, "id_image_url", "id_image_file")
        return self


class FiboGenerateImageRequest(GenerationRequestBase):
    """v2 ``/v2/image/generate/tailored`` (fibo models only).

    Give ``prompt`` (new image), ``structured_prompt`` with ``seed`` (recreate one), or both
    (refine one).
    """

    op: Literal["fibo_generate_image"] = "fibo_generate_image"
    prompt: Prompt | None = None
    structured_prompt: JsonObjectString | None = None
    seed: int | None = None
    model_influence: float | None = Field(
        default=None, ge=0.0, le=1.5, description="Sent as tailored_model_influence."
    )
    negative_prompt: str | None = None
    guidance_scale: int | None = Field(default=None, ge=3, le=5)
    aspect_ratio: AspectRatio | None = None
    prompt_content_moderation: bool | None = None

    @model_validator(mode="after")
    def _input_combination(self) -> Self:
        if self.prompt is None and self.structured_prompt is None:
            raise ValueError("give prompt, structured_prompt, or both")
        if self.prompt is None and self.seed is None:
            raise ValueError("structured_prompt without prompt recreates an image: it needs seed")
        return self


class FiboStructuredPromptRequest(GenerationRequestBase):
    """v2 ``/v2/structured_prompt/generate/tailored``: a structured prompt, no image.

    ``prompt`` alone creates one; with ``structured_prompt`` it refines that one.
    """

    op: Literal["fibo_structured_prompt"] = "fibo_structured_prompt"
    prompt: Prompt
    structured_prompt: JsonObjectString | None = None
    seed: int | None = None
    prompt_content_moderation: bool | None = None


GenerationRequest = Annotated[
    TextToImageRequest
    | TextToVectorRequest
    | ReimagineRequest
    | RestylePortraitRequest
    | FiboGenerateImageRequest
    | FiboStructuredPromptRequest,
    Field(discriminator="op"),
]
"""Any generation request, discriminated by ``op``."""
