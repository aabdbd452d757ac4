"""Vision Studio request schemas, as its JSON Schemas state them (FastAPI answers 422)."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

AspectRatio = Literal["1:1", "2:3", "3:2", "3:4", "4:3", "16:9", "9:16", "4:5", "5:4"]
ControlnetType = Literal[
    "controlnet_canny", "controlnet_depth", "controlnet_recoloring", "controlnet_color_grid"
]
PositiveId = Annotated[int, Field(gt=0)]
Unit = Annotated[float | None, Field(ge=0.0, le=1.0)]


def _lower(value: object) -> object:
    """Status values in requests are compared case-insensitively."""
    return value.lower() if isinstance(value, str) else value


class Schema(BaseModel):
    """A Vision Studio request body."""

    model_config = ConfigDict(protected_namespaces=())


class CreateProject(Schema):
    """BriaLoraCreateProjectRequest."""

    project_name: str = Field(min_length=1, max_length=255)
    ip_medium: Literal["photography", "illustration"]
    ip_type: Literal["multi_object_set", "object_variants", "defined_character", "style"]
    project_description: str | None = Field(default=None, max_length=1000)
    ip_name: str | None = Field(default=None, max_length=255)
    ip_description: str | None = Field(default=None, max_length=1000)


class UpdateProject(Schema):
    """BriaLoraUpdateProjectRequest."""

    project_id: PositiveId
    project_name: str | None = Field(default=None, min_length=1, max_length=255)
    project_description: str | None = Field(default=None, max_length=1000)
    ip_name: str | None = Field(default=None, max_length=255)
    ip_description: str | None = Field(default=None, max_length=1000)


class CreateDataset(Schema):
    """BriaLoraCreateDatasetRequest."""

    project_id: PositiveId
    name: str = Field(min_length=1, max_length=255)


class UpdateDataset(Schema):
    """BriaLoraUpdateDatasetRequest."""

    dataset_id: PositiveId
    name: str | None = Field(default=None, min_length=1, max_length=255)
    caption_prefix: str | None = Field(default=None, max_length=255)
    status: Literal["draft", "completed"] | None = None

    _status = field_validator("status", mode="before")(_lower)


class UploadImage(Schema):
    """BriaLoraUploadImageRequest: a local ``file_path`` or an ``image_url``."""

    dataset_id: PositiveId
    file_path: str | None = None
    image_url: str | None = Field(default=None, min_length=1)
    image_name: str | None = Field(default=None, max_length=255)


class UpdateCaption(Schema):
    """BriaLoraUpdateImageCaptionRequest."""

    image_id: PositiveId
    dataset_id: PositiveId
    caption: str | None = None
    regenerate_caption: bool = False


class CreateModel(Schema):
    """BriaLoraCreateModelRequest."""

    name: str = Field(min_length=1, max_length=255)
    dataset_id: PositiveId
    training_version: Literal["light", "max"]
    description: str | None = Field(default=None, max_length=1000)

    _version = field_validator("training_version", mode="before")(_lower)


class UpdateModel(Schema):
    """BriaLoraUpdateModelRequest."""

    model_id: PositiveId
    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=1000)


class GenerateImages(Schema):
    """BriaLoraGenerateImagesRequest."""

    model_id: str
    prompt: str = Field(min_length=4)
    aspect_ratio: AspectRatio = "1:1"
    num_results: int = Field(default=1, ge=1, le=4)
    sync: bool = True
    fast: bool = False
    steps_num: int | None = Field(default=None, ge=4, le=50)
    model_influence: Unit = None
    include_generation_prefix: bool = True
    seed: int | None = None


class GenerateVector(Schema):
    """BriaLoraGenerateVectorRequest."""

    bria_model_version: Literal["2.3", "3.2"] = "3.2"
    model_id: str
    prompt: str = Field(min_length=4)
    aspect_ratio: AspectRatio = "1:1"
    num_results: int = Field(default=1, ge=1, le=4)
    sync: bool = True
    steps_num: int | None = Field(default=None, ge=20, le=50)
    text_guidance_scale: float | None = Field(default=None, ge=1, le=10)
    prompt_content_moderation: bool = False
    content_moderation: bool = False
    seed: int | None = None
    negative_prompt: str | None = None
    model_influence: Unit = None
    include_generation_prefix: bool = True
    guidance_method_1: ControlnetType | None = None
    guidance_method_1_scale: Unit = None
    guidance_method_1_image_url: str | None = Field(default=None, min_length=1)
    guidance_method_1_image_file: str | None = None
    guidance_method_2: ControlnetType | None = None
    guidance_method_2_scale: Unit = None
    guidance_method_2_image_url: str | None = Field(default=None, min_length=1)
    guidance_method_2_image_file: str | None = None
    image_prompt_mode: Literal["regular", "style_only"] | None = None
    image_prompt_file: str | None = None
    image_prompt_urls: list[str] | None = None
    image_prompt_scale: Unit = None


class CaptionImage(Schema):
    """ImageCaptionRequest (``possible_tags`` is required although nullable)."""

    image_url: str = Field(min_length=1)
    mode: Literal["simple", "expert", "image_tagging"] = "simple"
    model_provider: Literal["openai", "gemini"] = "openai"
    nbr_tags: int = Field(default=5, ge=1, le=20)
    possible_tags: list[str] | None


class CaptionVideo(Schema):
    """VideoCaptionRequest."""

    video_url: str = Field(min_length=1)
    mode: Literal[
        "simple",
        "expert",
        "detailed",
        "tagging",
        "segment_timestamps",
        "segment_timestamps_descriptive",
        "segment_timestamps_tags",
    ] = "simple"
    nbr_tags: int = Field(default=5, ge=1, le=20)


class GenerateVariation(Schema):
    """BriaGenerateVariationRequest: a reference image restyled, optionally by a tailored model."""

    prompt: str = Field(min_length=4)
    num_results: int = Field(default=1, ge=1, le=4)
    sync: bool = True
    fast: bool = True
    steps_num: int = Field(default=30, ge=20, le=50)
    ref_image_influence: float = Field(default=0.75, ge=0.0, le=1.0)
    include_generation_prefix: bool = True
    enhance_image: bool = False
    prompt_content_moderation: bool = False
    content_moderation: bool = False
    ip_signal: bool = False
    seed: int | None = None
    image_url: str | None = Field(default=None, min_length=1)
    image_file: str | None = None
    tailored_model_id: str | None = None
    tailored_model_influence: Unit = None
