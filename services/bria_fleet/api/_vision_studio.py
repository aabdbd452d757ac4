"""The Vision Studio backend: header ``X-API-Key``, ``/api/v1/bria-lora/...``, captioning, status.

Every answer but ``/api/v1/bria/status`` is the envelope ``{"status": "success", "result": ...}``;
bodies repeat path ids as positive integers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel

from bria_fleet.api._api import BackendName, BriaApi
from bria_fleet.api._errors import BriaApiError, InvalidResponse
from bria_fleet.api._models import (
    BulkUpload,
    CaptionResult,
    Dataset,
    DatasetImage,
    GenerationOutcome,
    GenerationResult,
    ModelDownload,
    OperationStatus,
    Project,
    StructuredData,
    TailoredModel,
)
from bria_fleet.api._parse import (
    caption_result,
    caption_update_status,
    first_value,
    generation_outcome,
    job_status,
    validate,
)
from bria_fleet.api._requests import (
    ImageCaptionRequest,
    ImageSource,
    ReimagineRequest,
    RestylePortraitRequest,
    TailoredImageRequest,
    V2ImageRequest,
    V2StructuredPromptRequest,
    VideoCaptionRequest,
)
from bria_fleet.api._retry import Repeat
from bria_fleet.api._status import DatasetStatus
from bria_fleet.api._wire import compact, tailored_image_body, wire_id

__all__ = ["VisionStudioApi"]

_M = TypeVar("_M", bound=BaseModel)

_LORA = "/api/v1/bria-lora"
PROJECTS = f"{_LORA}/projects"
PROJECT = f"{_LORA}/projects/{{project_id}}"
PROJECT_DATASETS = f"{_LORA}/projects/{{project_id}}/datasets"
PROJECT_MODELS = f"{_LORA}/projects/{{project_id}}/models"
DATASETS = f"{_LORA}/datasets"
DATASET = f"{_LORA}/datasets/{{dataset_id}}"
IMAGES = f"{_LORA}/datasets/{{dataset_id}}/images"
IMAGE = f"{_LORA}/datasets/{{dataset_id}}/images/{{image_id}}"
IMAGE_CAPTION = f"{_LORA}/datasets/{{dataset_id}}/images/{{image_id}}/caption"
ALL_CAPTIONS = f"{_LORA}/datasets/{{dataset_id}}/images/captions"
MODELS = f"{_LORA}/models"
MODEL = f"{_LORA}/models/{{model_id}}"
START_TRAINING = f"{_LORA}/models/{{model_id}}/training/start"
STOP_TRAINING = f"{_LORA}/models/{{model_id}}/training/stop"
LORA_IMAGE = f"{_LORA}/image/generation/generate-image"
LORA_VECTOR = f"{_LORA}/image/generation/generate-vector"
VARIATION = "/api/v1/bria/image/generation/generate-variation"
CAPTION_IMAGE = "/api/v1/caption/image"
CAPTION_VIDEO = "/api/v1/caption/video"
STATUS = "/api/v1/bria/status/{task_id}"

# Fields of TailoredImageRequest that LoRA generate-image does not take (its schema lacks them).
_NOT_IN_LORA_IMAGE = (
    "guidance_methods",
    "image_prompt",
    "negative_prompt",
    "text_guidance_scale",
    "content_moderation",
    "prompt_content_moderation",
    "bria_model_version",
)


def _id(value: str, name: str) -> int:
    wired = wire_id(value)
    if not isinstance(wired, int) or wired <= 0:
        raise BriaApiError(
            f"Vision Studio takes {name} as a positive integer, not {value!r}",
            code="invalid_request",
        )
    return wired


class VisionStudioApi(BriaApi):
    """``BriaApi`` over the Vision Studio gateway."""

    backend: ClassVar[BackendName] = "vision-studio"

    async def _result(self, method: str, route: str, **kwargs: Any) -> Any:
        body = await self._transport.call_json(method, route, **kwargs)
        if isinstance(body, dict) and "result" in body and "status" in body:
            return body["result"]
        return body

    async def _one(self, model: type[_M], method: str, route: str, **kwargs: Any) -> _M:
        return validate(
            model, await self._result(method, route, **kwargs), what=f"{method} {route}"
        )

    async def _list(self, model: type[_M], route: str, **path: str) -> list[_M]:
        result = await self._result("GET", route, path=path)
        items = (
            result
            if isinstance(result, list)
            else first_value(
                result, "items", "data", "results", "projects", "datasets", "models", "images"
            )
        )
        if not isinstance(items, list):
            raise InvalidResponse(f"GET {route} answered {type(result).__name__}, not a list")
        return [validate(model, item, what=f"GET {route}") for item in items]

    # Projects

    async def create_project(
        self,
        *,
        name: str,
        ip_type: str,
        ip_medium: str,
        description: str | None = None,
        ip_name: str | None = None,
        ip_description: str | None = None,
    ) -> Project:
        body = compact(
            project_name=name,
            ip_medium=ip_medium,
            ip_type=ip_type,
            project_description=description,
            ip_name=ip_name,
            ip_description=ip_description,
        )
        return await self._one(Project, "POST", PROJECTS, json=body)

    async def get_project(self, project_id: str) -> Project:
        return await self._one(Project, "GET", PROJECT, path={"project_id": project_id})

    async def list_projects(self) -> list[Project]:
        return await self._list(Project, PROJECTS)

    async def update_project(
        self,
        project_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        ip_name: str | None = None,
        ip_description: str | None = None,
    ) -> Project:
        body = compact(
            project_id=_id(project_id, "project_id"),
            project_name=name,
            project_description=description,
            ip_name=ip_name,
            ip_description=ip_description,
        )
        path = {"project_id": project_id}
        return await self._one(Project, "PUT", PROJECT, path=path, json=body)

    async def delete_project(self, project_id: str) -> None:
        await self._transport.call("DELETE", PROJECT, path={"project_id": project_id})

    # Datasets

    async def create_dataset(self, *, project_id: str, name: str) -> Dataset:
        body = {"project_id": _id(project_id, "project_id"), "name": name}
        return await self._one(Dataset, "POST", DATASETS, json=body)

    async def get_dataset(self, dataset_id: str) -> Dataset:
        return await self._one(Dataset, "GET", DATASET, path={"dataset_id": dataset_id})

    async def list_datasets(self) -> list[Dataset]:
        return await self._list(Dataset, DATASETS)

    async def list_project_datasets(self, project_id: str) -> list[Dataset]:
        return await self._list(Dataset, PROJECT_DATASETS, project_id=project_id)

    async def update_dataset(
        self,
        dataset_id: str,
        *,
        name: str | None = None,
        status: DatasetStatus | None = None,
        caption_prefix: str | None = None,
        visual_schema: StructuredData | None = None,
    ) -> Dataset:
        if visual_schema is not None:
            self._unsupported("update_dataset(visual_schema=...)", "FIBO needs the engine")
        body = compact(
            dataset_id=_id(dataset_id, "dataset_id"),
            name=name,
            caption_prefix=caption_prefix,
            status=None if status is None else status.value,
        )
        path = {"dataset_id": dataset_id}
        return await self._one(Dataset, "PUT", DATASET, path=path, json=body)

    async def delete_dataset(self, dataset_id: str) -> None:
        await self._transport.call("DELETE", DATASET, path={"dataset_id": dataset_id})

    async def clone_dataset(self, dataset_id: str, *, name: str | None = None) -> Dataset:
        self._unsupported("clone_dataset")

    # Images

    async def upload_image(
        self,
        dataset_id: str,
        source: ImageSource,
        *,
        image_name: str | None = None,
        content_moderation: bool | None = None,
    ) -> DatasetImage:
        if source.url is None:
            self._unsupported("upload_image from bytes or base64", "upload by image URL")
        if content_moderation is not None:
            self._unsupported("upload_image(content_moderation=...)")
        body = compact(
            dataset_id=_id(dataset_id, "dataset_id"), image_url=source.url, image_name=image_name
        )
        path = {"dataset_id": dataset_id}
        return await self._one(DatasetImage, "POST", IMAGES, path=path, json=body)

    async def upload_images_zip(
        self, dataset_id: str, archive: bytes, *, filename: str = "images.zip"
    ) -> BulkUpload:
        self._unsupported("upload_images_zip", "upload images one by one by URL")

    async def list_images(self, dataset_id: str) -> list[DatasetImage]:
        return await self._list(DatasetImage, IMAGES, dataset_id=dataset_id)

    async def get_image(self, dataset_id: str, image_id: str) -> DatasetImage:
        path = {"dataset_id": dataset_id, "image_id": image_id}
        return await self._one(DatasetImage, "GET", IMAGE, path=path)

    async def delete_image(self, dataset_id: str, image_id: str) -> None:
        path = {"dataset_id": dataset_id, "image_id": image_id}
        await self._transport.call("DELETE", IMAGE, path=path)

    async def set_image_caption(self, dataset_id: str, image_id: str, caption: str) -> DatasetImage:
        return await self._put_caption(dataset_id, image_id, caption=caption)

    async def regenerate_image_caption(self, dataset_id: str, image_id: str) -> DatasetImage:
        return await self._put_caption(dataset_id, image_id, regenerate_caption=True)

    async def _put_caption(self, dataset_id: str, image_id: str, **fields: Any) -> DatasetImage:
        body = {
            "image_id": _id(image_id, "image_id"),
            "dataset_id": _id(dataset_id, "dataset_id"),
            **fields,
        }
        path = {"dataset_id": dataset_id, "image_id": image_id}
        result = await self._result("PUT", IMAGE_CAPTION, path=path, json=body)
        if not isinstance(result, dict) or "id" not in result:
            return await self.get_image(dataset_id, image_id)
        return validate(DatasetImage, result, what=f"PUT {IMAGE_CAPTION}")

    async def regenerate_all_captions(self, dataset_id: str) -> OperationStatus[Dataset]:
        result = await self._result("PUT", ALL_CAPTIONS, path={"dataset_id": dataset_id})
        if isinstance(result, dict) and "id" in result:
            return caption_update_status(validate(Dataset, result, what=f"PUT {ALL_CAPTIONS}"))
        return await self.get_caption_update_status(dataset_id)

    # Structured data for captions

    async def generate_prefix(
        self, images: Sequence[ImageSource], *, content_moderation: bool | None = None
    ) -> str:
        self._unsupported("generate_prefix", "set caption_prefix with update_dataset")

    async def generate_visual_schema(self, images: Sequence[ImageSource]) -> StructuredData:
        self._unsupported("generate_visual_schema", "FIBO training needs the engine")

    async def refine_structured_prompt(
        self, structured_prompt: StructuredData, instruction: str
    ) -> StructuredData:
        self._unsupported("refine_structured_prompt", "FIBO training needs the engine")

    # Models and training

    async def create_model(
        self,
        *,
        dataset_id: str,
        name: str,
        training_version: str,
        training_mode: str | None = None,
        description: str | None = None,
    ) -> TailoredModel:
        if training_mode is not None:
            self._unsupported("create_model(training_mode=...)", "only light or max versions")
        body = compact(
            name=name,
            dataset_id=_id(dataset_id, "dataset_id"),
            training_version=training_version,
            description=description,
        )
        return await self._one(TailoredModel, "POST", MODELS, json=body)

    async def get_model(self, model_id: str) -> TailoredModel:
        return await self._one(TailoredModel, "GET", MODEL, path={"model_id": model_id})

    async def list_models(self) -> list[TailoredModel]:
        return await self._list(TailoredModel, MODELS)

    async def list_project_models(self, project_id: str) -> list[TailoredModel]:
        return await self._list(TailoredModel, PROJECT_MODELS, project_id=project_id)

    async def update_model(
        self, model_id: str, *, name: str | None = None, description: str | None = None
    ) -> TailoredModel:
        body = compact(model_id=_id(model_id, "model_id"), name=name, description=description)
        path = {"model_id": model_id}
        return await self._one(TailoredModel, "PUT", MODEL, path=path, json=body)

    async def delete_model(self, model_id: str) -> None:
        await self._transport.call("DELETE", MODEL, path={"model_id": model_id})

    async def start_training(self, model_id: str) -> TailoredModel:
        return await self._training(START_TRAINING, model_id)

    async def stop_training(self, model_id: str) -> TailoredModel:
        return await self._training(STOP_TRAINING, model_id)

    async def _training(self, route: str, model_id: str) -> TailoredModel:
        result = await self._result(
            "POST", route, path={"model_id": model_id}, repeat=Repeat.ALWAYS
        )
        if isinstance(result, dict) and "status" in result:
            return validate(TailoredModel, {"id": model_id, **result}, what=f"POST {route}")
        return await self.get_model(model_id)

    async def download_model(self, model_id: str) -> ModelDownload:
        self._unsupported("download_model")

    # Generation

    async def text_to_image(
        self, model_id: str, request: TailoredImageRequest
    ) -> GenerationOutcome:
        unsupported = [f for f in _NOT_IN_LORA_IMAGE if getattr(request, f)]
        if unsupported:
            self._unsupported(
                f"text_to_image with {', '.join(unsupported)}", "use text_to_vector or the engine"
            )
        body = {"model_id": model_id, **tailored_image_body(request)}
        return generation_outcome(
            await self._result("POST", LORA_IMAGE, json=body, repeat=Repeat.GENERATION)
        )

    async def text_to_vector(
        self, model_id: str, request: TailoredImageRequest
    ) -> GenerationOutcome:
        body = {"model_id": model_id, **tailored_image_body(request)}
        return generation_outcome(
            await self._result("POST", LORA_VECTOR, json=body, repeat=Repeat.GENERATION)
        )

    async def reimagine(self, model_id: str, request: ReimagineRequest) -> GenerationOutcome:
        body = request.model_dump(
            exclude={"structure_image", "structure_ref_influence"}, exclude_none=True
        )
        body["tailored_model_id"] = model_id
        if request.structure_ref_influence is not None:
            body["ref_image_influence"] = request.structure_ref_influence
        image = request.structure_image
        if image is not None and image.url is not None:
            body["image_url"] = image.url
        elif image is not None:
            body["image_file"] = image.base64
        return generation_outcome(
            await self._result("POST", VARIATION, json=body, repeat=Repeat.GENERATION)
        )

    async def restyle_portrait(self, request: RestylePortraitRequest) -> GenerationOutcome:
        self._unsupported("restyle_portrait")

    async def generate_image_v2(self, request: V2ImageRequest) -> GenerationOutcome:
        self._unsupported("generate_image_v2", "FIBO generation needs the engine")

    async def generate_structured_prompt_v2(
        self, request: V2StructuredPromptRequest
    ) -> GenerationOutcome:
        self._unsupported("generate_structured_prompt_v2", "FIBO generation needs the engine")

    async def get_async_result(self, request_id: str) -> OperationStatus[GenerationResult]:
        body = await self._transport.call_json("GET", STATUS, path={"task_id": request_id})
        return job_status(body, request_id)

    async def caption_image(self, request: ImageCaptionRequest) -> CaptionResult:
        body = request.model_dump(exclude_none=True)
        body["possible_tags"] = request.possible_tags  # required by the schema, even as null
        return caption_result(
            await self._result("POST", CAPTION_IMAGE, json=body, repeat=Repeat.ALWAYS)
        )

    async def caption_video(self, request: VideoCaptionRequest) -> CaptionResult:
        body = request.model_dump(exclude_none=True)
        return caption_result(
            await self._result("POST", CAPTION_VIDEO, json=body, repeat=Repeat.ALWAYS)
        )
