"""``BriaApi``: the one interface every worker uses, whichever backend serves it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from types import TracebackType
from typing import ClassVar, Literal, NoReturn, Self

from bria_fleet.api._errors import UnsupportedOperation
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
from bria_fleet.api._parse import caption_update_status, training_status
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
from bria_fleet.api._status import DatasetStatus
from bria_fleet.api._transport import Transport

__all__ = ["BackendName", "BriaApi"]

BackendName = Literal["engine", "vision-studio"]


class BriaApi(ABC):
    """The Bria API as the fleet uses it: projects, datasets, images, models, training,
    generation and status reads, with our own typed models in and out.

    Contract:

    - Ids are ``str`` everywhere; the engine's integers are converted at the edge.
    - Status strings are normalised into enums once, when a response is read.
    - Every method either returns or raises a ``BriaApiError``: ``retriable`` ones (timeouts,
      connection errors, 429, 5xx) only after the in-process retries and budget are spent;
      permanent ones (400, 401, 403, 404, 409, 412, 415, 422) at once.
      ``UnsupportedOperation`` when the chosen backend does not offer the operation.
    - Calls are independent: no ordering between concurrent calls is promised, but every
      call waits for the shared per-process request budget and 429 back-off.
    - Nothing waits for a long operation. Training, caption regeneration and async
      generation are started by one call and read by ``get_training_status``,
      ``get_caption_update_status`` and ``get_async_result``; watching is the caller's job.
    - Create one per process (``create_api``), share it, ``aclose()`` it (or use
      ``async with``) at shutdown.
    """

    backend: ClassVar[BackendName]

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._transport.base_url!r})"

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._transport.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def _unsupported(self, operation: str, hint: str = "") -> NoReturn:
        message = f"{operation} is not offered by the {self.backend} backend (BRIA_BACKEND)"
        raise UnsupportedOperation(f"{message}; {hint}" if hint else message)

    # Projects

    @abstractmethod
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
        """Create a project (the IP: its type and medium)."""

    @abstractmethod
    async def get_project(self, project_id: str) -> Project:
        """One project."""

    @abstractmethod
    async def list_projects(self) -> list[Project]:
        """Every project of the organisation."""

    @abstractmethod
    async def update_project(
        self,
        project_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        ip_name: str | None = None,
        ip_description: str | None = None,
    ) -> Project:
        """Change the given fields of a project."""

    @abstractmethod
    async def delete_project(self, project_id: str) -> None:
        """Delete a project with its datasets, images and models."""

    async def find_project_by_name(self, name: str) -> Project | None:
        """The first project named ``name``, if any (for find-or-create)."""
        return next((p for p in await self.list_projects() if p.name == name), None)

    # Datasets

    @abstractmethod
    async def create_dataset(self, *, project_id: str, name: str) -> Dataset:
        """Create a draft dataset in a project."""

    @abstractmethod
    async def get_dataset(self, dataset_id: str) -> Dataset:
        """One dataset (with its images when the API includes them)."""

    @abstractmethod
    async def list_datasets(self) -> list[Dataset]:
        """Every dataset of the organisation."""

    @abstractmethod
    async def list_project_datasets(self, project_id: str) -> list[Dataset]:
        """The datasets of one project."""

    async def find_dataset_by_name(self, project_id: str, name: str) -> Dataset | None:
        """The first dataset of a project named ``name``, if any (for find-or-create)."""
        datasets = await self.list_project_datasets(project_id)
        return next((d for d in datasets if d.name == name), None)

    @abstractmethod
    async def update_dataset(
        self,
        dataset_id: str,
        *,
        name: str | None = None,
        status: DatasetStatus | None = None,
        caption_prefix: str | None = None,
        visual_schema: StructuredData | None = None,
    ) -> Dataset:
        """Change the given fields; ``status=COMPLETED`` freezes images and captions."""

    @abstractmethod
    async def delete_dataset(self, dataset_id: str) -> None:
        """Delete a dataset and its images."""

    @abstractmethod
    async def clone_dataset(self, dataset_id: str, *, name: str | None = None) -> Dataset:
        """A new draft dataset copied from this one."""

    # Images

    @abstractmethod
    async def upload_image(
        self,
        dataset_id: str,
        source: ImageSource,
        *,
        image_name: str | None = None,
        content_moderation: bool | None = None,
    ) -> DatasetImage:
        """Add one image (URL, or base64/bytes) to a draft dataset."""

    @abstractmethod
    async def upload_images_zip(
        self, dataset_id: str, archive: bytes, *, filename: str = "images.zip"
    ) -> BulkUpload:
        """Add the images of a zip archive to a draft dataset (bulk upload)."""

    @abstractmethod
    async def list_images(self, dataset_id: str) -> list[DatasetImage]:
        """The images of a dataset."""

    @abstractmethod
    async def get_image(self, dataset_id: str, image_id: str) -> DatasetImage:
        """One image of a dataset."""

    @abstractmethod
    async def delete_image(self, dataset_id: str, image_id: str) -> None:
        """Remove an image from a draft dataset."""

    @abstractmethod
    async def set_image_caption(self, dataset_id: str, image_id: str, caption: str) -> DatasetImage:
        """Set a manual caption."""

    @abstractmethod
    async def regenerate_image_caption(self, dataset_id: str, image_id: str) -> DatasetImage:
        """Ask the API to caption one image again (automatic caption)."""

    @abstractmethod
    async def regenerate_all_captions(self, dataset_id: str) -> OperationStatus[Dataset]:
        """Start regenerating every caption; read progress with ``get_caption_update_status``."""

    async def get_caption_update_status(self, dataset_id: str) -> OperationStatus[Dataset]:
        """The dataset's ``captions_update_status`` as an operation status."""
        return caption_update_status(await self.get_dataset(dataset_id))

    # Structured data for captions

    @abstractmethod
    async def generate_prefix(
        self, images: Sequence[ImageSource], *, content_moderation: bool | None = None
    ) -> str:
        """A caption prefix from 1-6 sample images (legacy training versions)."""

    @abstractmethod
    async def generate_visual_schema(self, images: Sequence[ImageSource]) -> StructuredData:
        """A visual schema from 5-10 sample images (FIBO training)."""

    @abstractmethod
    async def refine_structured_prompt(
        self, structured_prompt: StructuredData, instruction: str
    ) -> StructuredData:
        """A visual schema or caption changed by a natural-language instruction."""

    # Models and training

    @abstractmethod
    async def create_model(
        self,
        *,
        dataset_id: str,
        name: str,
        training_version: str,
        training_mode: str | None = None,
        description: str | None = None,
    ) -> TailoredModel:
        """Create a model on a dataset (``light``, ``max``, ``fibo``...)."""

    @abstractmethod
    async def get_model(self, model_id: str) -> TailoredModel:
        """One model, with its training status."""

    @abstractmethod
    async def list_models(self) -> list[TailoredModel]:
        """Every model of the organisation."""

    @abstractmethod
    async def list_project_models(self, project_id: str) -> list[TailoredModel]:
        """The models of one project."""

    @abstractmethod
    async def update_model(
        self, model_id: str, *, name: str | None = None, description: str | None = None
    ) -> TailoredModel:
        """Change a model's name or description."""

    @abstractmethod
    async def delete_model(self, model_id: str) -> None:
        """Delete a model that is not training."""

    @abstractmethod
    async def start_training(self, model_id: str) -> TailoredModel:
        """Start training (the dataset must be completed); hours long, watch it."""

    @abstractmethod
    async def stop_training(self, model_id: str) -> TailoredModel:
        """Stop training for good."""

    async def get_training_status(self, model_id: str) -> OperationStatus[TailoredModel]:
        """The model's status as an operation status."""
        return training_status(await self.get_model(model_id))

    @abstractmethod
    async def download_model(self, model_id: str) -> ModelDownload:
        """A pre-signed URL for a trained model."""

    # Generation

    @abstractmethod
    async def text_to_image(
        self, model_id: str, request: TailoredImageRequest
    ) -> GenerationOutcome:
        """Images from text with a tailored model (v1; Vision Studio: LoRA generate-image)."""

    @abstractmethod
    async def text_to_vector(
        self, model_id: str, request: TailoredImageRequest
    ) -> GenerationOutcome:
        """Vectors from text with a tailored model (v1; Vision Studio: LoRA generate-vector)."""

    @abstractmethod
    async def reimagine(self, model_id: str, request: ReimagineRequest) -> GenerationOutcome:
        """Structure-reference generation with a tailored model."""

    @abstractmethod
    async def restyle_portrait(self, request: RestylePortraitRequest) -> GenerationOutcome:
        """A portrait restyled by a tailored model, identity kept."""

    @abstractmethod
    async def generate_image_v2(self, request: V2ImageRequest) -> GenerationOutcome:
        """FIBO image generation: a result (sync) or a job (async, 202)."""

    @abstractmethod
    async def generate_structured_prompt_v2(
        self, request: V2StructuredPromptRequest
    ) -> GenerationOutcome:
        """A FIBO structured prompt: a result (sync) or a job (async, 202)."""

    @abstractmethod
    async def get_async_result(self, request_id: str) -> OperationStatus[GenerationResult]:
        """The status of an async request; ``NotFound`` when unknown or expired."""

    @abstractmethod
    async def caption_image(self, request: ImageCaptionRequest) -> CaptionResult:
        """Caption a standalone image by URL."""

    @abstractmethod
    async def caption_video(self, request: VideoCaptionRequest) -> CaptionResult:
        """Caption a standalone video by URL."""
