"""The Bria engine backend: header ``api_token``, routes under ``/v1/...`` and ``/v2/...``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel

from bria_fleet.api._api import BackendName, BriaApi
from bria_fleet.api._errors import InvalidResponse
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
    caption_update_status,
    first_value,
    generation_outcome,
    job_status,
    structured,
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
    structured_text,
)
from bria_fleet.api._retry import Repeat
from bria_fleet.api._status import DatasetStatus
from bria_fleet.api._wire import compact, image_field, tailored_image_body, wire_id

__all__ = ["EngineApi"]

_M = TypeVar("_M", bound=BaseModel)

_TG = "/v1/tailored-gen"
PROJECTS = f"{_TG}/projects"
PROJECT = f"{_TG}/projects/{{project_id}}"
PROJECT_DATASETS = f"{_TG}/projects/{{project_id}}/datasets"
PROJECT_MODELS = f"{_TG}/projects/{{project_id}}/models"
DATASETS = f"{_TG}/datasets"
DATASET = f"{_TG}/datasets/{{dataset_id}}"
DATASET_CLONE = f"{_TG}/datasets/{{dataset_id}}/clone"
IMAGES = f"{_TG}/datasets/{{dataset_id}}/images"
IMAGES_BULK = f"{_TG}/datasets/{{dataset_id}}/images/bulk"
IMAGE = f"{_TG}/datasets/{{dataset_id}}/images/{{image_id}}"
GENERATE_PREFIX = f"{_TG}/generate_prefix"
GENERATE_VISUAL_SCHEMA = f"{_TG}/generate_visual_schema"
REFINE_STRUCTURED_PROMPT = f"{_TG}/refine_structured_prompt"
MODELS = f"{_TG}/models"
MODEL = f"{_TG}/models/{{model_id}}"
START_TRAINING = f"{_TG}/models/{{model_id}}/start_training"
STOP_TRAINING = f"{_TG}/models/{{model_id}}/stop_training"
DOWNLOAD = f"{_TG}/models/{{model_id}}/download"
RESTYLE_PORTRAIT = f"{_TG}/restyle_portrait"
TEXT_TO_IMAGE = "/v1/text-to-image/tailored/{model_id}"
TEXT_TO_VECTOR = "/v1/text-to-vector/tailored/{model_id}"
REIMAGINE = "/v1/reimagine/tailored/{model_id}"
V2_IMAGE = "/v2/image/generate/tailored"
V2_STRUCTURED_PROMPT = "/v2/structured_prompt/generate/tailored"
V2_STATUS = "/v2/status/{request_id}"

TRAINING_METHODS = {"fully_automated": "automatic_training", "expert": "expert_training"}
"""``training_mode`` as the vendor's own code sends it (``training_method``).

Bria's fine-tuning notebook sends ``automatic_training``; ``expert_training`` follows its
pattern (no vendor material shows the expert spelling)."""


class EngineApi(BriaApi):
    """``BriaApi`` over the Bria engine (``https://engine.prod.bria-api.com``)."""

    backend: ClassVar[BackendName] = "engine"

    async def _json(self, method: str, route: str, **kwargs: Any) -> Any:
        return await self._transport.call_json(method, route, **kwargs)

    async def _list(self, model: type[_M], route: str, **path: str) -> list[_M]:
        body = await self._json("GET", route, path=path)
        items = body if isinstance(body, list) else first_value(body, "items", "data", "results")
        if not isinstance(items, list):
            raise InvalidResponse(f"GET {route} answered {type(body).__name__}, not a list")
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
            project_description=description,
            ip_name=ip_name,
            ip_description=ip_description,
            ip_medium=ip_medium,
            ip_type=ip_type,
        )
        answer = await self._json("POST", PROJECTS, json=body)
        return validate(Project, answer, what=f"POST {PROJECTS}")

    async def get_project(self, project_id: str) -> Project:
        answer = await self._json("GET", PROJECT, path={"project_id": project_id})
        return validate(Project, answer, what=f"GET {PROJECT}")

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
            project_name=name,
            project_description=description,
            ip_name=ip_name,
            ip_description=ip_description,
        )
        answer = await self._json("PUT", PROJECT, path={"project_id": project_id}, json=body)
        return validate(Project, answer, what=f"PUT {PROJECT}")

    async def delete_project(self, project_id: str) -> None:
        await self._transport.call("DELETE", PROJECT, path={"project_id": project_id})

    # Datasets

    async def create_dataset(self, *, project_id: str, name: str) -> Dataset:
        body = {"project_id": wire_id(project_id), "name": name}
        answer = await self._json("POST", DATASETS, json=body)
        return validate(Dataset, answer, what=f"POST {DATASETS}")

    async def get_dataset(self, dataset_id: str) -> Dataset:
        answer = await self._json("GET", DATASET, path={"dataset_id": dataset_id})
        return validate(Dataset, answer, what=f"GET {DATASET}")

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
        body = compact(
            name=name,
            status=None if status is None else status.value,
            caption_prefix=caption_prefix,
            visual_schema=visual_schema,
        )
        answer = await self._json("PUT", DATASET, path={"dataset_id": dataset_id}, json=body)
        return validate(Dataset, answer, what=f"PUT {DATASET}")

    async def delete_dataset(self, dataset_id: str) -> None:
        await self._transport.call("DELETE", DATASET, path={"dataset_id": dataset_id})

    async def clone_dataset(self, dataset_id: str, *, name: str | None = None) -> Dataset:
        answer = await self._json(
            "POST", DATASET_CLONE, path={"dataset_id": dataset_id}, json=compact(name=name)
        )
        return validate(Dataset, answer, what=f"POST {DATASET_CLONE}")

    # Images

    async def upload_image(
        self,
        dataset_id: str,
        source: ImageSource,
        *,
        image_name: str | None = None,
        content_moderation: bool | None = None,
    ) -> DatasetImage:
        body = compact(
            file=source.base64,
            image_url=source.url,
            image_name=image_name,
            content_moderation=content_moderation,
        )
        answer = await self._json("POST", IMAGES, path={"dataset_id": dataset_id}, json=body)
        return validate(DatasetImage, answer, what=f"POST {IMAGES}")

    async def upload_images_zip(
        self, dataset_id: str, archive: bytes, *, filename: str = "images.zip"
    ) -> BulkUpload:
        answer = await self._json(
            "POST",
            IMAGES_BULK,
            path={"dataset_id": dataset_id},
            files={"file": (filename, archive, "application/zip")},
        )
        return validate(BulkUpload, answer or {}, what=f"POST {IMAGES_BULK}")

    async def list_images(self, dataset_id: str) -> list[DatasetImage]:
        return await self._list(DatasetImage, IMAGES, dataset_id=dataset_id)

    async def get_image(self, dataset_id: str, image_id: str) -> DatasetImage:
        path = {"dataset_id": dataset_id, "image_id": image_id}
        answer = await self._json("GET", IMAGE, path=path)
        return validate(DatasetImage, answer, what=f"GET {IMAGE}")

    async def delete_image(self, dataset_id: str, image_id: str) -> None:
        path = {"dataset_id": dataset_id, "image_id": image_id}
        await self._transport.call("DELETE", IMAGE, path=path)

    async def set_image_caption(self, dataset_id: str, image_id: str, caption: str) -> DatasetImage:
        return await self._put_caption(dataset_id, image_id, {"caption": caption})

    async def regenerate_image_caption(self, dataset_id: str, image_id: str) -> DatasetImage:
        return await self._put_caption(dataset_id, image_id, {"regenerate_caption": True})

    async def _put_caption(
        self, dataset_id: str, image_id: str, body: dict[str, Any]
    ) -> DatasetImage:
        path = {"dataset_id": dataset_id, "image_id": image_id}
        answer = await self._json("PUT", IMAGE, path=path, json=body)
        return validate(DatasetImage, answer, what=f"PUT {IMAGE}")

    async def regenerate_all_captions(self, dataset_id: str) -> OperationStatus[Dataset]:
        answer = await self._json("PUT", IMAGES, path={"dataset_id": dataset_id})
        if not isinstance(answer, dict) or "id" not in answer:
            return await self.get_caption_update_status(dataset_id)
        return caption_update_status(validate(Dataset, answer, what=f"PUT {IMAGES}"))

    # Structured data for captions

    async def generate_prefix(
        self, images: Sequence[ImageSource], *, content_moderation: bool | None = None
    ) -> str:
        body = compact(
            images=[image_field(i) for i in images], content_moderation=content_moderation
        )
        answer = await self._json("POST", GENERATE_PREFIX, json=body, repeat=Repeat.ALWAYS)
        prefix = first_value(answer, "prefix", "caption_prefix", "generated_prefix")
        if isinstance(answer, str):
            prefix = answer
        if not isinstance(prefix, str):
            raise InvalidResponse(f"POST {GENERATE_PREFIX} answered no prefix: {answer!r:.200}")
        return prefix

    async def generate_visual_schema(self, images: Sequence[ImageSource]) -> StructuredData:
        body = {"images": [image_field(i) for i in images]}
        answer = await self._json("POST", GENERATE_VISUAL_SCHEMA, json=body, repeat=Repeat.ALWAYS)
        return structured(answer, "visual_schema", "schema")

    async def refine_structured_prompt(
        self, structured_prompt: StructuredData, instruction: str
    ) -> StructuredData:
        body = {"structured_prompt": structured_prompt, "instruction": instruction}
        answer = await self._json("POST", REFINE_STRUCTURED_PROMPT, json=body, repeat=Repeat.ALWAYS)
        return structured(answer, "structured_prompt", "visual_schema")

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
        body = compact(
            name=name,
            description=description,
            dataset_id=wire_id(dataset_id),
            training_version=training_version,
            training_method=None
            if training_mode is None
            else TRAINING_METHODS.get(training_mode, training_mode),
        )
        answer = await self._json("POST", MODELS, json=body)
        return validate(TailoredModel, answer, what=f"POST {MODELS}")

    async def get_model(self, model_id: str) -> TailoredModel:
        answer = await self._json("GET", MODEL, path={"model_id": model_id})
        return validate(TailoredModel, answer, what=f"GET {MODEL}")

    async def list_models(self) -> list[TailoredModel]:
        return await self._list(TailoredModel, MODELS)

    async def list_project_models(self, project_id: str) -> list[TailoredModel]:
        return await self._list(TailoredModel, PROJECT_MODELS, project_id=project_id)

    async def update_model(
        self, model_id: str, *, name: str | None = None, description: str | None = None
    ) -> TailoredModel:
        body = compact(name=name, description=description)
        answer = await self._json("PUT", MODEL, path={"model_id": model_id}, json=body)
        return validate(TailoredModel, answer, what=f"PUT {MODEL}")

    async def delete_model(self, model_id: str) -> None:
        await self._transport.call("DELETE", MODEL, path={"model_id": model_id})

    async def start_training(self, model_id: str) -> TailoredModel:
        return await self._training(START_TRAINING, model_id)

    async def stop_training(self, model_id: str) -> TailoredModel:
        return await self._training(STOP_TRAINING, model_id)

    async def _training(self, route: str, model_id: str) -> TailoredModel:
        answer = await self._json("POST", route, path={"model_id": model_id}, repeat=Repeat.ALWAYS)
        if not isinstance(answer, dict):
            return await self.get_model(model_id)
        return validate(TailoredModel, {"id": model_id, **answer}, what=f"POST {route}")

    async def download_model(self, model_id: str) -> ModelDownload:
        answer = await self._json("GET", DOWNLOAD, path={"model_id": model_id})
        return validate(ModelDownload, answer, what=f"GET {DOWNLOAD}")

    # Generation

    async def text_to_image(
        self, model_id: str, request: TailoredImageRequest
    ) -> GenerationOutcome:
        return await self._generate(TEXT_TO_IMAGE, tailored_image_body(request), model_id)

    async def text_to_vector(
        self, model_id: str, request: TailoredImageRequest
    ) -> GenerationOutcome:
        return await self._generate(TEXT_TO_VECTOR, tailored_image_body(request), model_id)

    async def reimagine(self, model_id: str, request: ReimagineRequest) -> GenerationOutcome:
        body = request.model_dump(exclude={"structure_image"}, exclude_none=True)
        image = request.structure_image
        if image is not None and image.base64 is not None:
            body["structure_image_file"] = image.base64
        elif image is not None:
            body["structure_image_url"] = image.url
        return await self._generate(REIMAGINE, body, model_id)

    async def restyle_portrait(self, request: RestylePortraitRequest) -> GenerationOutcome:
        body = request.model_dump(exclude={"id_image", "tailored_model_id"}, exclude_none=True)
        body["tailored_model_id"] = wire_id(request.tailored_model_id)
        if request.id_image.base64 is not None:
            body["id_image_file"] = request.id_image.base64
        else:
            body["id_image_url"] = request.id_image.url
        return await self._generate(RESTYLE_PORTRAIT, body)

    async def generate_image_v2(self, request: V2ImageRequest) -> GenerationOutcome:
        body = request.model_dump(exclude_none=True)
        if request.structured_prompt is not None:
            body["structured_prompt"] = structured_text(request.structured_prompt)
        return await self._generate(V2_IMAGE, body)

    async def generate_structured_prompt_v2(
        self, request: V2StructuredPromptRequest
    ) -> GenerationOutcome:
        body = request.model_dump(exclude_none=True)
        if request.structured_prompt is not None:
            body["structured_prompt"] = structured_text(request.structured_prompt)
        return await self._generate(V2_STRUCTURED_PROMPT, body)

    async def _generate(
        self, route: str, body: dict[str, Any], model_id: str | None = None
    ) -> GenerationOutcome:
        path = None if model_id is None else {"model_id": model_id}
        answer = await self._json("POST", route, path=path, json=body, repeat=Repeat.GENERATION)
        return generation_outcome(answer)

    async def get_async_result(self, request_id: str) -> OperationStatus[GenerationResult]:
        answer = await self._json("GET", V2_STATUS, path={"request_id": request_id})
        return job_status(answer, request_id)

    async def caption_image(self, request: ImageCaptionRequest) -> CaptionResult:
        self._unsupported("caption_image", "captioning a standalone image is Vision Studio's")

    async def caption_video(self, request: VideoCaptionRequest) -> CaptionResult:
        self._unsupported("caption_video", "captioning a video is Vision Studio's")
