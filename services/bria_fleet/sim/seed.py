"""The seeded objects a simulator starts with (unless empty); contract examples use their ids."""

from bria_fleet.sim import captions
from bria_fleet.sim.entities import (
    Dataset,
    DatasetStatus,
    Image,
    Model,
    Project,
    Training,
)
from bria_fleet.sim.state import THUMBNAIL_SIDE, State
from bria_fleet_contracts.seed import (
    COMPLETED_DATASET_ID,
    COMPLETED_DATASET_IMAGE_IDS,
    DRAFT_DATASET_ID,
    DRAFT_DATASET_IMAGE_IDS,
    MODELS,
    PROJECT_ID,
)

_HOUR = 3600.0
_COMPLETED_NAMES = ("lora_standing.png", "lora_sitting.png", "lora_running.png")
_DRAFT_NAMES = ("lora_waving.png", "lora_reading.png", "lora_dancing.png")


def _dataset(
    state: State,
    dataset_id: str,
    name: str,
    status: DatasetStatus,
    image_ids: tuple[str, ...],
    image_names: tuple[str, ...],
    at: float,
) -> Dataset:
    project = state.projects[int(PROJECT_ID)]
    prefix = captions.default_caption_prefix(
        project.ip_medium,
        project.ip_type,
        project.project_name,
        project.ip_name,
        project.ip_description,
    )
    dataset = Dataset(int(dataset_id), project.id, name, prefix, status, created_at=at)
    dataset.updated_at = at
    for image_id, image_name in zip(image_ids, image_names, strict=True):
        picture = state.assets.picture("png", 256, 256, int(image_id), at, "upload")
        thumb = state.assets.picture("png", THUMBNAIL_SIDE, THUMBNAIL_SIDE, int(image_id), at)
        caption = captions.caption_for(prefix, image_name)
        image = Image(int(image_id), dataset.id, image_name, caption, picture.id, thumb.id)
        image.created_at = image.updated_at = at
        dataset.images[image.id] = image
    state.datasets[dataset.id] = dataset
    return dataset


def seed_state(state: State) -> None:
    """Add project 100, datasets 200 (completed) and 201 (draft), models 300, 301 and 302."""
    start = state.clock.now() - 4 * _HOUR
    state.projects[int(PROJECT_ID)] = Project(
        int(PROJECT_ID),
        "Branded Character",
        "illustration",
        "defined_character",
        "Seeded by the simulator",
        "Lora",
        "A female character with purple hair",
        start,
        start,
    )
    completed = _dataset(
        state,
        COMPLETED_DATASET_ID,
        "dataset v1",
        DatasetStatus.COMPLETED,
        COMPLETED_DATASET_IMAGE_IDS,
        _COMPLETED_NAMES,
        start,
    )
    completed.visual_schema = captions.visual_schema(_COMPLETED_NAMES)
    _dataset(
        state,
        DRAFT_DATASET_ID,
        "dataset v2",
        DatasetStatus.DRAFT,
        DRAFT_DATASET_IMAGE_IDS,
        _DRAFT_NAMES,
        start,
    )
    for seeded in MODELS:
        version, dataset = seeded.training_version, state.datasets[int(seeded.dataset_id)]
        model = Model(
            int(seeded.id),
            f"Lora {version} model",
            dataset.id,
            dataset.project_id,
            version,
            dataset.caption_prefix,
            f"A {version} model trained on Lora character illustrations",
            created_at=start,
            updated_at=start,
        )
        model.training = Training(start + 0.5 * _HOUR, 2 * _HOUR, False, 1.0)
        state.models[model.id] = model
