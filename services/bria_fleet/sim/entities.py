"""The simulated objects. Time-driven states are computed from timestamps, never by a loop."""

from dataclasses import dataclass, field
from enum import StrEnum


class ModelStatus(StrEnum):
    """The model status set of the tailored-generation documents."""

    CREATED = "Created"
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"


IN_TRAINING = frozenset({ModelStatus.IN_PROGRESS, ModelStatus.STOPPING})


class DatasetStatus(StrEnum):
    """Dataset statuses as the current documents spell them."""

    DRAFT = "draft"
    COMPLETED = "completed"


@dataclass
class Project:
    """A project: the IP that datasets and models are made for."""

    id: int
    project_name: str
    ip_medium: str
    ip_type: str
    project_description: str = ""
    ip_name: str = ""
    ip_description: str = ""
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass
class Image:
    """One dataset image with its caption."""

    id: int
    dataset_id: int
    image_name: str
    caption: str
    asset_id: str
    thumbnail_asset_id: str
    caption_source: str = "automatic"
    source_url: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0


@dataclass
class CaptionRegeneration:
    """A regenerate-all-captions run: ``in_progress`` until ``done_at``."""

    prefix: str
    started_at: float
    done_at: float
    applied: bool = False


@dataclass
class Dataset:
    """A dataset; ``images`` keeps upload order."""

    id: int
    project_id: int | None
    name: str
    caption_prefix: str
    status: DatasetStatus = DatasetStatus.DRAFT
    images: dict[int, Image] = field(default_factory=dict)
    visual_schema: str | None = None
    legacy: dict[str, str] = field(default_factory=dict)
    bulk_uploaded: bool = False
    regeneration: CaptionRegeneration | None = None
    created_at: float = 0.0
    updated_at: float = 0.0

    def captions_update_status(self, now: float) -> str:
        """``empty`` before any regeneration, then ``in_progress`` and ``completed``."""
        if self.regeneration is None:
            return "empty"
        return "completed" if now >= self.regeneration.done_at else "in_progress"


@dataclass
class Training:
    """One training run of a model; its outcome is fixed when it starts."""

    started_at: float
    seconds: float
    fails: bool
    stopping_seconds: float
    stop_requested_at: float | None = None

    @property
    def ends_at(self) -> float:
        """When the run finishes if nobody stops it."""
        return self.started_at + self.seconds


@dataclass
class Model:
    """A tailored model; ``status_at`` derives its status from the training timestamps."""

    id: int
    name: str
    dataset_id: int
    project_id: int | None
    training_version: str
    generation_prefix: str
    description: str = ""
    training_mode: str = "fully_automated"
    training: Training | None = None
    start_calls: int = 0
    created_at: float = 0.0
    updated_at: float = 0.0

    def phase(self, now: float) -> tuple[ModelStatus, float]:
        """The status at ``now`` and the moment the model entered it."""
        run = self.training
        if run is None:
            return ModelStatus.CREATED, self.created_at
        stop = run.stop_requested_at
        if stop is not None and stop < run.ends_at:
            stopped_at = stop + run.stopping_seconds
            if now >= stopped_at:
                return ModelStatus.STOPPED, stopped_at
            return ModelStatus.STOPPING, stop
        if now >= run.ends_at:
            return (ModelStatus.FAILED if run.fails else ModelStatus.COMPLETED), run.ends_at
        return ModelStatus.IN_PROGRESS, run.started_at

    def status_at(self, now: float) -> ModelStatus:
        """The status at ``now``."""
        return self.phase(now)[0]

    def updated_at_at(self, now: float) -> float:
        """The last change: an edit or the latest status transition (a finish is exact)."""
        return max(self.updated_at, self.phase(now)[1])
