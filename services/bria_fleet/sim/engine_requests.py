"""Request bodies of the engine routes; unknown fields are accepted and ignored."""

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

AspectRatio = Literal["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9"]
Scale = Annotated[float | None, Field(ge=0.0, le=1.0)]


class Body(BaseModel):
    """A lenient engine body: extra fields pass, ``null`` means absent."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())


class ProjectCreate(Body):
    """Create Project."""

    project_name: str | None = None
    ip_medium: str | None = None
    ip_type: str | None = None
    project_description: str | None = None
    ip_name: str | None = None
    ip_description: str | None = None


class ProjectUpdate(Body):
    """Update Project."""

    project_name: str | None = None
    project_description: str | None = None
    ip_name: str | None = None
    ip_description: str | None = None
    ip_medium: str | None = None
    ip_type: str | None = None


def _json_text(value: Any) -> Any:
    """Structured prompts and schemas may come as objects; keep them as JSON strings."""
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


class DatasetCreate(Body):
    """Create Dataset (``project_id`` may be absent, as in the legacy document)."""

    project_id: int | None = None
    name: str | None = None
    caption_prefix: str | None = None
    use_case: str | None = None
    style_description: str | None = None


class DatasetUpdate(Body):
    """Update Dataset (legacy ``use_case`` and ``style_description`` too)."""

    name: str | None = None
    caption_prefix: str | None = None
    status: str | None = None
    visual_schema: str | None = None
    use_case: str | None = None
    style_description: str | None = None

    _schema_text = field_validator("visual_schema", mode="before")(_json_text)


class DatasetClone(Body):
    """Clone Dataset As Draft."""

    name: str | None = None


class CaptionUpdate(Body):
    """Update Image Caption."""

    caption: str | None = None
    regenerate_caption: bool = False


class SampleImages(Body):
    """Sample images for generate_prefix / generate_visual_schema: base64 strings or URLs."""

    dataset_id: int | None = None
    project_id: int | None = None
    images: list[str] | None = None
    image_urls: list[str] | None = None
    images_urls: list[str] | None = None
    files: list[str] | None = None
    content_moderation: bool = False

    def samples(self) -> list[str]:
        """Every sample image given, whatever the field."""
        found: list[str] = []
        for group in (self.images, self.image_urls, self.images_urls, self.files):
            found.extend(group or [])
        return found


class RefineRequest(Body):
    """refine_structured_prompt: a schema or prompt plus an instruction."""

    structured_prompt: str | None = None
    visual_schema: str | None = None
    instruction: str | None = None
    prompt: str | None = None

    _text = field_validator("structured_prompt", "visual_schema", mode="before")(_json_text)


class ModelCreate(Body):
    """Create Model."""

    name: str | None = None
    dataset_id: int
    training_version: str = "light"
    description: str | None = None
    training_mode: str | None = None
    training_method: str | None = None


class ModelUpdate(Body):
    """Update Model (name and description only)."""

    name: str | None = None
    description: str | None = None


class GuidanceFields(Body):
    """ControlNet and image-prompt guidance fields."""

    guidance_method_1: str | None = None
    guidance_method_1_scale: Scale = None
    guidance_method_1_image_file: str | None = None
    guidance_method_1_image_url: str | None = None
    guidance_method_2: str | None = None
    guidance_method_2_scale: Scale = None
    guidance_method_2_image_file: str | None = None
    guidance_method_2_image_url: str | None = None
    image_prompt_mode: str | None = None
    image_prompt_scale: Scale = None
    image_prompt_file: str | None = None
    image_prompt_urls: list[str] | None = None


class TextGenerate(GuidanceFields):
    """text-to-image and text-to-vector with a tailored model."""

    prompt: str = Field(min_length=1)
    num_results: int = Field(default=4, ge=1, le=4)
    aspect_ratio: AspectRatio = "1:1"
    sync: bool = False
    seed: int | None = None
    steps_num: int | None = Field(default=None, ge=4, le=20)
    negative_prompt: str | None = None
    model_influence: Scale = None
    include_generation_prefix: bool = True
    content_moderation: bool = False
    prompt_content_moderation: bool = False
    ip_signal: bool = False


class ReimagineGenerate(Body):
    """reimagine/tailored: structure reference generation."""

    prompt: str = Field(min_length=1)
    structure_image_url: str | None = None
    structure_image_file: str | None = None
    structure_ref_influence: Scale = None
    num_results: int = Field(default=1, ge=1, le=4)
    aspect_ratio: AspectRatio = "1:1"
    sync: bool = False
    seed: int | None = None
    steps_num: int | None = Field(default=None, ge=4, le=20)
    fast: bool = False
    include_generation_prefix: bool = True
    content_moderation: bool = False
    prompt_content_moderation: bool = False


class RestylePortrait(Body):
    """restyle_portrait: a portrait restyled by a light tailored model."""

    tailored_model_id: int | str
    id_image_url: str | None = None
    id_image_file: str | None = None
    tailored_model_influence: Scale = None
    id_strength: Scale = None
    sync: bool = False
    seed: int | None = None
    content_moderation: bool = False


class FiboGenerate(Body):
    """/v2/image/generate/tailored and /v2/structured_prompt/generate/tailored."""

    tailored_model_id: int | str
    prompt: str | None = None
    structured_prompt: str | None = None
    seed: int | None = None
    sync: bool = False
    aspect_ratio: AspectRatio = "1:1"
    tailored_model_influence: float | None = Field(default=None, ge=0.0, le=1.5)
    model_influence: float | None = Field(default=None, ge=0.0, le=1.5)
    negative_prompt: str | None = None
    webhook_url: str | None = None
    prompt_content_moderation: bool = False

    _text = field_validator("structured_prompt", mode="before")(_json_text)
