"""The API simulator's fixed seeded state; the committed examples run against it."""

from dataclasses import dataclass

PROJECT_ID = "100"

COMPLETED_DATASET_ID = "200"
COMPLETED_DATASET_IMAGE_IDS = ("2001", "2002", "2003")

DRAFT_DATASET_ID = "201"
DRAFT_DATASET_IMAGE_IDS = ("2011", "2012", "2013")

LIGHT_MODEL_ID = "300"
MAX_MODEL_ID = "301"
FIBO_MODEL_ID = "302"


@dataclass(frozen=True)
class SeedDataset:
    """A seeded dataset of project ``PROJECT_ID``."""

    id: str
    status: str
    image_ids: tuple[str, ...]


@dataclass(frozen=True)
class SeedModel:
    """A seeded, trained model."""

    id: str
    training_version: str
    status: str
    dataset_id: str


DATASETS = (
    SeedDataset(COMPLETED_DATASET_ID, "completed", COMPLETED_DATASET_IMAGE_IDS),
    SeedDataset(DRAFT_DATASET_ID, "draft", DRAFT_DATASET_IMAGE_IDS),
)

MODELS = (
    SeedModel(LIGHT_MODEL_ID, "light", "Completed", COMPLETED_DATASET_ID),
    SeedModel(MAX_MODEL_ID, "max", "Completed", COMPLETED_DATASET_ID),
    SeedModel(FIBO_MODEL_ID, "fibo", "Completed", COMPLETED_DATASET_ID),
)
