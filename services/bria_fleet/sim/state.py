"""The in-memory store and every documented state rule, raised as domain errors."""

import itertools
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bria_fleet.sim import captions, render
from bria_fleet.sim.assets import Asset, AssetStore
from bria_fleet.sim.clock import Clock
from bria_fleet.sim.config import FaultConfig, TimingConfig
from bria_fleet.sim.counters import EffectCounters
from bria_fleet.sim.entities import (
    IN_TRAINING,
    CaptionRegeneration,
    Dataset,
    DatasetStatus,
    Image,
    Model,
    ModelStatus,
    Project,
    Training,
)
from bria_fleet.sim.errors import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    PreconditionFailedError,
)
from bria_fleet.sim.images import ImageInfo

FIRST_NEW_ID = 10_001
IP_MEDIA = frozenset({"photography", "illustration"})
IP_TYPES = frozenset(
    {
        "multi_object_set",
        "object_variants",
        "icons",
        "defined_character",
        "character_variants",
        "stylized_scene",
        "style",
    }
)
PREFIX_IP_TYPES = frozenset({"stylized_scene", "defined_character", "object_variants"})
TRAINING_VERSIONS = frozenset({"light", "max", "fibo", "bria-2.3", "bria-3.2"})
TRAINING_MODES = {"fullyautomated": "fully_automated", "automated": "fully_automated"}
TRAINING_MODES |= {"automatictraining": "fully_automated", "automatic": "fully_automated"}
TRAINING_MODES |= {"expert": "expert", "experttraining": "expert"}
"""``training_mode`` spellings of the documents and ``training_method`` values of the vendor's
own notebook (``automatic_training``), normalised to the mode they name."""
THUMBNAIL_SIDE = 128


def normalize(value: str) -> str:
    """Compare statuses whatever their case and separators: ``Training In Progress`` etc."""
    return re.sub(r"[\s_\-]", "", value).lower()


@dataclass
class Knobs:
    """The run-time settings the rules read; the simulator swaps them on admin calls."""

    timing: TimingConfig
    faults: FaultConfig
    max_dataset_images: int
    max_bulk_images: int


@dataclass(frozen=True)
class NewImage:
    """An image to add: uploaded bytes (with their ``info``) or a URL the sim cannot fetch."""

    image_name: str
    data: bytes | None = None
    info: ImageInfo | None = None
    source_url: str | None = None


class State:
    """Projects, datasets, images and models; every method enforces the documents' rules."""

    def __init__(
        self,
        clock: Clock,
        knobs: Knobs,
        assets: AssetStore,
        counters: EffectCounters,
        rng: random.Random,
        ids: Iterator[int] | None = None,
    ) -> None:
        self.clock = clock
        self.knobs = knobs
        self.assets = assets
        self.counters = counters
        self.rng = rng
        self.projects: dict[int, Project] = {}
        self.datasets: dict[int, Dataset] = {}
        self.models: dict[int, Model] = {}
        self._ids = ids if ids is not None else itertools.count(FIRST_NEW_ID)

    def new_id(self) -> int:
        """A fresh id, above every seeded one and never handed out before."""
        return next(self._ids)

    def now(self) -> float:
        """The current time, after applying every time-driven change that is due."""
        now = self.clock.now()
        for dataset in self.datasets.values():
            run = dataset.regeneration
            if run is not None and not run.applied and now >= run.done_at:
                for image in dataset.images.values():
                    image.caption = captions.caption_for(run.prefix, image.image_name)
                    image.caption_source = "automatic"
                    image.updated_at = run.done_at
                dataset.updated_at = max(dataset.updated_at, run.done_at)
                run.applied = True
        return now

    # projects ---------------------------------------------------------------------------

    def project(self, project_id: int) -> Project:
        """The project, or 404."""
        found = self.projects.get(project_id)
        if found is None:
            raise NotFoundError("Project not found")
        return found

    def create_project(
        self,
        project_name: str,
        ip_medium: str,
        ip_type: str,
        project_description: str = "",
        ip_name: str = "",
        ip_description: str = "",
    ) -> Project:
        """A new project; the IP fields must use the documented values."""
        if not project_name:
            raise BadRequestError("project_name is required")
        medium, kind = ip_medium.lower(), ip_type.lower()
        if medium not in IP_MEDIA:
            raise BadRequestError(f"ip_medium must be one of {sorted(IP_MEDIA)}")
        if kind not in IP_TYPES:
            raise BadRequestError(f"ip_type must be one of {sorted(IP_TYPES)}")
        if kind == "defined_character" and not ip_name:
            raise BadRequestError("ip_name is required for ip_type defined_character")
        now = self.now()
        project = Project(
            self.new_id(),
            project_name,
            medium,
            kind,
            project_description,
            ip_name,
            ip_description,
            now,
            now,
        )
        self.projects[project.id] = project
        self.counters.created_names["project", project_name] += 1
        return project

    def update_project(self, project_id: int, changes: dict[str, str]) -> Project:
        """Change the given fields of a project."""
        project = self.project(project_id)
        if "ip_medium" in changes and changes["ip_medium"].lower() not in IP_MEDIA:
            raise BadRequestError(f"ip_medium must be one of {sorted(IP_MEDIA)}")
        if "ip_type" in changes and changes["ip_type"].lower() not in IP_TYPES:
            raise BadRequestError(f"ip_type must be one of {sorted(IP_TYPES)}")
        for key, value in changes.items():
            setattr(project, key, value.lower() if key in ("ip_medium", "ip_type") else value)
        project.updated_at = self.now()
        return project

    def delete_project(self, project_id: int) -> None:
        """Delete a project with its datasets, images and models; 409 while one trains."""
        self.project(project_id)
        now = self.now()
        models = [m for m in self.models.values() if m.project_id == project_id]
        if any(model.status_at(now) in IN_TRAINING for model in models):
            raise ConflictError("Cannot delete project while models are in training")
        for model in models:
            del self.models[model.id]
        for dataset in [d for d in self.datasets.values() if d.project_id == project_id]:
            del self.datasets[dataset.id]
        del self.projects[project_id]

    # datasets ---------------------------------------------------------------------------

    def dataset(self, dataset_id: int) -> Dataset:
        """The dataset, or 404."""
        self.now()
        found = self.datasets.get(dataset_id)
        if found is None:
            raise NotFoundError("Dataset not found")
        return found

    def datasets_of(self, project_id: int) -> list[Dataset]:
        """The datasets of a project (404 for an unknown project)."""
        self.project(project_id)
        self.now()
        return [d for d in self.datasets.values() if d.project_id == project_id]

    def create_dataset(
        self,
        project_id: int | None,
        name: str,
        caption_prefix: str | None = None,
        legacy: dict[str, str] | None = None,
    ) -> Dataset:
        """A new draft dataset; without a prefix it gets its project's default one."""
        if project_id is None:
            prefix = caption_prefix or "An image of"
        else:
            project = self.project(project_id)
            prefix = caption_prefix or captions.default_caption_prefix(
                project.ip_medium,
                project.ip_type,
                project.project_name,
                project.ip_name,
                project.ip_description,
            )
        now = self.now()
        dataset_id = self.new_id()
        dataset = Dataset(dataset_id, project_id, name or f"dataset {dataset_id}", prefix)
        dataset.legacy = dict(legacy or {})
        dataset.created_at = dataset.updated_at = now
        self.datasets[dataset.id] = dataset
        self.counters.created_names["dataset", dataset.name] += 1
        return dataset

    def _trained_on(self, dataset_id: int, now: float) -> list[Model]:
        done = IN_TRAINING | {ModelStatus.COMPLETED}
        return [
            m
            for m in self.models.values()
            if m.dataset_id == dataset_id and m.status_at(now) in done
        ]

    def update_dataset(
        self,
        dataset_id: int,
        *,
        name: str | None = None,
        caption_prefix: str | None = None,
        status: str | None = None,
        visual_schema: str | None = None,
        legacy: dict[str, str] | None = None,
    ) -> Dataset:
        """Apply the documented rules of Update Dataset (status compared case-insensitively)."""
        dataset = self.dataset(dataset_id)
        now = self.now()
        target = dataset.status
        if status is not None:
            wanted = normalize(status)
            if wanted not in {s.value for s in DatasetStatus}:
                raise BadRequestError("status must be 'draft' or 'completed'")
            target = DatasetStatus(wanted)
        reopening = dataset.status is DatasetStatus.COMPLETED and target is DatasetStatus.DRAFT
        if reopening and self._trained_on(dataset_id, now):
            raise ConflictError("A dataset a model was trained on cannot return to draft")
        frozen = target is DatasetStatus.COMPLETED and dataset.status is DatasetStatus.COMPLETED
        if frozen and caption_prefix is not None and caption_prefix != dataset.caption_prefix:
            raise ConflictError("Cannot update caption_prefix if dataset status is completed")
        if frozen and visual_schema is not None and visual_schema != dataset.visual_schema:
            raise ConflictError("Cannot update visual_schema if dataset status is completed")
        changed_legacy = {k: v for k, v in (legacy or {}).items() if dataset.legacy.get(k) != v}
        if frozen and changed_legacy:
            raise ConflictError(
                "Cannot update use_case or style_description of a completed dataset"
            )
        if target is DatasetStatus.COMPLETED and dataset.status is DatasetStatus.DRAFT:
            count = len(dataset.images)
            if count < 1:
                raise ConflictError("Dataset must have at least 1 image to be marked as completed")
            if count > self.knobs.max_dataset_images and not dataset.bulk_uploaded:
                limit = self.knobs.max_dataset_images
                raise ConflictError(f"Dataset cannot exceed {limit} images")
        if name is not None:
            dataset.name = name
        if caption_prefix is not None:
            dataset.caption_prefix = caption_prefix
        if visual_schema is not None:
            dataset.visual_schema = visual_schema
        dataset.legacy.update(legacy or {})
        dataset.status = target
        dataset.updated_at = now
        return dataset

    def delete_dataset(self, dataset_id: int) -> None:
        """Delete a dataset and its images; 409 while a model trains on it."""
        self.dataset(dataset_id)
        now = self.now()
        if any(
            m.dataset_id == dataset_id and m.status_at(now) in IN_TRAINING
            for m in self.models.values()
        ):
            raise ConflictError(
                "Cannot delete a dataset that is used by a model that is in training"
            )
        del self.datasets[dataset_id]

    def clone_dataset(self, dataset_id: int, name: str | None = None) -> Dataset:
        """A new draft copy of a dataset, images and captions included."""
        source = self.dataset(dataset_id)
        clone = self.create_dataset(
            source.project_id, name or f"Copy of {source.name}", source.caption_prefix
        )
        clone.visual_schema = source.visual_schema
        clone.legacy = dict(source.legacy)
        clone.bulk_uploaded = source.bulk_uploaded
        for image in source.images.values():
            copy = Image(
                self.new_id(),
                clone.id,
                image.image_name,
                image.caption,
                image.asset_id,
                image.thumbnail_asset_id,
                image.caption_source,
                image.source_url,
                clone.created_at,
                clone.created_at,
            )
            clone.images[copy.id] = copy
        return clone

    # images -----------------------------------------------------------------------------

    def _editable(self, dataset: Dataset, action: str) -> None:
        if dataset.status is DatasetStatus.COMPLETED:
            raise ConflictError(f"Cannot {action} a completed dataset")

    def image(self, dataset_id: int, image_id: int) -> Image:
        """The image of that dataset, or 404."""
        found = self.dataset(dataset_id).images.get(image_id)
        if found is None:
            raise NotFoundError("Image or dataset not found")
        return found

    def _asset_for(self, spec: NewImage, now: float) -> Asset:
        if spec.data is not None and spec.info is not None:
            return self.assets.stored(spec.data, spec.info.format, now)
        side = render.SHORT_SIDE
        return self.assets.picture("png", side, side, self.rng.getrandbits(32), now, "upload")

    def ensure_uploadable(self, dataset_id: int, count: int = 1, *, bulk: bool = False) -> Dataset:
        """The dataset, if ``count`` more images may be uploaded to it (404, 409 otherwise)."""
        dataset = self.dataset(dataset_id)
        self._editable(dataset, "upload to")
        limit = self.knobs.max_bulk_images if bulk else self.knobs.max_dataset_images
        if len(dataset.images) + count > limit:
            raise ConflictError(f"Dataset cannot exceed {limit} images")
        return dataset

    def add_images(
        self, dataset_id: int, specs: Sequence[NewImage], *, bulk: bool = False
    ) -> list[Image]:
        """Add images to a draft dataset, each with its automatic caption."""
        dataset = self.ensure_uploadable(dataset_id, len(specs), bulk=bulk)
        now = self.now()
        added = []
        for spec in specs:
            asset = self._asset_for(spec, now)
            thumb = self.assets.picture(
                "png", THUMBNAIL_SIDE, THUMBNAIL_SIDE, asset.seed or len(spec.image_name), now
            )
            image = Image(
                self.new_id(),
                dataset.id,
                spec.image_name,
                captions.caption_for(dataset.caption_prefix, spec.image_name),
                asset.id,
                thumb.id,
                source_url=spec.source_url,
                created_at=now,
                updated_at=now,
            )
            dataset.images[image.id] = image
            self.counters.image_uploads[dataset.id, spec.image_name] += 1
            added.append(image)
        dataset.bulk_uploaded = dataset.bulk_uploaded or bulk
        dataset.updated_at = now
        return added

    def delete_image(self, dataset_id: int, image_id: int) -> None:
        """Remove an image; 409 on a completed dataset."""
        dataset = self.dataset(dataset_id)
        self.image(dataset_id, image_id)
        if dataset.status is DatasetStatus.COMPLETED:
            raise ConflictError("Cannot delete an image from a completed dataset")
        del dataset.images[image_id]
        dataset.updated_at = self.now()

    def set_caption(
        self, dataset_id: int, image_id: int, caption: str | None, regenerate: bool
    ) -> Image:
        """Set a manual caption or regenerate it (exactly one of the two)."""
        if (caption is not None) == regenerate:
            raise BadRequestError("Provide exactly one of caption and regenerate_caption")
        dataset = self.dataset(dataset_id)
        image = self.image(dataset_id, image_id)
        if dataset.status is DatasetStatus.COMPLETED:
            raise ConflictError("Cannot update caption in a completed dataset")
        if caption is not None:
            image.caption, image.caption_source = caption, "manual"
        else:
            image.caption = captions.caption_for(dataset.caption_prefix, image.image_name)
            image.caption_source = "automatic"
        image.updated_at = self.now()
        return image

    def regenerate_captions(self, dataset_id: int) -> Dataset:
        """Start regenerating every caption; ``captions_update_status`` tracks it."""
        dataset = self.dataset(dataset_id)
        self._editable(dataset, "regenerate captions of")
        now = self.now()
        seconds = self.knobs.timing.caption_seconds
        dataset.regeneration = CaptionRegeneration(dataset.caption_prefix, now, now + seconds)
        dataset.updated_at = now
        self.now()
        return dataset

    def finish_captions(self, dataset_id: int) -> Dataset:
        """Admin: end a running caption regeneration now."""
        dataset = self.dataset(dataset_id)
        run = dataset.regeneration
        if run is None or run.applied:
            raise ConflictError("No caption regeneration is in progress")
        run.done_at = self.clock.now()
        self.now()
        return dataset

    # models -----------------------------------------------------------------------------

    def model(self, model_id: int) -> Model:
        """The model, or 404."""
        found = self.models.get(model_id)
        if found is None:
            raise NotFoundError("Model not found")
        return found

    def models_of(self, project_id: int) -> list[Model]:
        """The models of a project (404 for an unknown project)."""
        self.project(project_id)
        return [m for m in self.models.values() if m.project_id == project_id]

    def create_model(
        self,
        dataset_id: int,
        name: str,
        training_version: str,
        description: str = "",
        training_mode: str | None = None,
    ) -> Model:
        """A new model on a dataset (draft or completed); it joins the dataset's project."""
        if not name:
            raise BadRequestError("name is required")
        version = training_version.lower()
        if version not in TRAINING_VERSIONS:
            raise BadRequestError(f"training_version must be one of {sorted(TRAINING_VERSIONS)}")
        mode = TRAINING_MODES.get(normalize(training_mode or "fully_automated"))
        if mode is None:
            raise BadRequestError(
                "training_method must be 'automatic_training' or 'expert_training' "
                "(training_mode: 'fully_automated' or 'expert')"
            )
        dataset = self.dataset(dataset_id)
        now = self.now()
        model = Model(
            self.new_id(),
            name,
            dataset.id,
            dataset.project_id,
            version,
            dataset.caption_prefix,
            description,
            mode,
            created_at=now,
            updated_at=now,
        )
        self.models[model.id] = model
        self.counters.created_names["model", name] += 1
        return model

    def update_model(self, model_id: int, name: str | None, description: str | None) -> Model:
        """Change a model's name and description (nothing else can change)."""
        model = self.model(model_id)
        if name is not None:
            if not name:
                raise BadRequestError("name must not be empty")
            model.name = name
        if description is not None:
            model.description = description
        model.updated_at = self.now()
        return model

    def delete_model(self, model_id: int) -> None:
        """Delete a model; 409 while it is in training."""
        model = self.model(model_id)
        if model.status_at(self.now()) in IN_TRAINING:
            raise ConflictError("Cannot delete model while it is in training")
        del self.models[model_id]

    def start_training(self, model_id: int) -> Model:
        """Start training once: 409 if ever started, 412 unless the dataset is completed."""
        model = self.model(model_id)
        self.counters.training_starts[model_id] += 1
        if model.training is not None:
            raise ConflictError("Training already started/cannot be resumed")
        dataset = self.datasets.get(model.dataset_id)
        if dataset is None or dataset.status is not DatasetStatus.COMPLETED:
            raise PreconditionFailedError("Dataset status must be 'completed' to start training")
        if model.training_version == "fibo" and not dataset.visual_schema:
            raise PreconditionFailedError("A fibo model needs a dataset with a visual_schema")
        now = self.now()
        fails = self.rng.random() < self.knobs.faults.training_failure_rate
        timing = self.knobs.timing
        model.training = Training(now, timing.training_seconds, fails, timing.stopping_seconds)
        return model

    def stop_training(self, model_id: int) -> Model:
        """Stop a running training; 409 unless the model is in progress."""
        model = self.model(model_id)
        now = self.now()
        if model.status_at(now) is not ModelStatus.IN_PROGRESS or model.training is None:
            raise ConflictError("Training already stopped/not in training")
        model.training.stop_requested_at = now
        return model

    def finish_training(
        self, model_id: int, fail: bool | None = None, seconds: float | None = None
    ) -> Model:
        """Admin: end a running training now (or after ``seconds`` more), optionally failing."""
        model = self.model(model_id)
        run = model.training
        now = self.now()
        if run is None or model.status_at(now) is not ModelStatus.IN_PROGRESS:
            raise ConflictError("The model is not in training")
        run.seconds = now - run.started_at + (seconds or 0.0)
        if fail is not None:
            run.fails = fail
        return model
