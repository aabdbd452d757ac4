"""Status strings, normalised once at the edge into enums.

The documents and public clients spell the same status many ways (``completed``,
``Completed``, ``COMPLETED``; ``InProgress``, ``in_progress``, ``Training In Progress``;
legacy ``ready``). A status is compared with case, spaces, ``-`` and ``_`` removed, then
looked up in a table of known spellings. A spelling we do not know becomes ``UNKNOWN``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, TypeVar

__all__ = [
    "CaptionsStatus",
    "DatasetStatus",
    "JobStatus",
    "ModelStatus",
    "OperationState",
    "ProjectStatus",
    "normalise",
]


class OperationState(StrEnum):
    """The state of any long operation (training, caption regeneration, async generation)."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPED = "stopped"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        """Whether the operation will not change state any more."""
        return self in (OperationState.COMPLETED, OperationState.FAILED, OperationState.STOPPED)


class ModelStatus(StrEnum):
    """A tailored model's status (engine: Created/InProgress/Completed/Failed/Stopping/Stopped)."""

    CREATED = "created"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    STOPPING = "stopping"
    STOPPED = "stopped"
    DELETED = "deleted"
    UNKNOWN = "unknown"

    @property
    def state(self) -> OperationState:
        """This status as the state of a training operation."""
        return _MODEL_STATE[self]


class DatasetStatus(StrEnum):
    """A dataset's status: uploads and caption edits are allowed only in ``draft``."""

    DRAFT = "draft"
    COMPLETED = "completed"
    DELETED = "deleted"
    UNKNOWN = "unknown"


class CaptionsStatus(StrEnum):
    """A dataset's ``captions_update_status`` (regenerate-all-captions progress)."""

    EMPTY = "empty"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @property
    def state(self) -> OperationState:
        """This status as the state of a caption regeneration."""
        return _CAPTIONS_STATE[self]


class JobStatus(StrEnum):
    """An asynchronous request's status (``/v2/status``, ``/api/v1/bria/status``)."""

    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    ERROR = "error"
    UNKNOWN = "unknown"

    @property
    def state(self) -> OperationState:
        """This status as the state of an asynchronous generation."""
        return _JOB_STATE[self]


class ProjectStatus(StrEnum):
    """A project's status."""

    ACTIVE = "active"
    DELETED = "deleted"
    UNKNOWN = "unknown"


_MODEL_SPELLINGS = {
    ModelStatus.CREATED: ("created", "new"),
    ModelStatus.IN_PROGRESS: (
        "inprogress",
        "traininginprogress",
        "training",
        "running",
        "started",
        "queued",
        "pending",
        "processing",
        "syncing",
    ),
    ModelStatus.COMPLETED: ("completed", "complete", "ready", "trained", "done", "succeeded"),
    ModelStatus.FAILED: ("failed", "failure", "error", "trainingfailed"),
    ModelStatus.STOPPING: ("stopping",),
    ModelStatus.STOPPED: ("stopped", "cancelled", "canceled", "aborted"),
    ModelStatus.DELETED: ("deleted",),
}
_DATASET_SPELLINGS = {
    DatasetStatus.DRAFT: ("draft",),
    DatasetStatus.COMPLETED: ("completed", "complete"),
    DatasetStatus.DELETED: ("deleted",),
}
_CAPTIONS_SPELLINGS = {
    CaptionsStatus.EMPTY: ("empty", "none", "idle", "notstarted"),
    CaptionsStatus.IN_PROGRESS: ("inprogress", "pending", "processing", "running", "started"),
    CaptionsStatus.COMPLETED: ("completed", "complete", "done", "success", "succeeded"),
    CaptionsStatus.FAILED: ("failed", "failure", "error"),
}
_JOB_SPELLINGS = {
    JobStatus.IN_PROGRESS: ("inprogress", "pending", "queued", "running", "processing"),
    JobStatus.COMPLETED: ("completed", "complete", "success", "succeeded", "done"),
    JobStatus.ERROR: ("error", "failed", "failure"),
    JobStatus.UNKNOWN: ("unknown",),
}
_PROJECT_SPELLINGS = {
    ProjectStatus.ACTIVE: ("active",),
    ProjectStatus.DELETED: ("deleted",),
}

_MODEL_STATE = {
    ModelStatus.CREATED: OperationState.PENDING,
    ModelStatus.IN_PROGRESS: OperationState.IN_PROGRESS,
    ModelStatus.COMPLETED: OperationState.COMPLETED,
    ModelStatus.FAILED: OperationState.FAILED,
    ModelStatus.STOPPING: OperationState.IN_PROGRESS,
    ModelStatus.STOPPED: OperationState.STOPPED,
    ModelStatus.DELETED: OperationState.STOPPED,
    ModelStatus.UNKNOWN: OperationState.UNKNOWN,
}
_CAPTIONS_STATE = {
    CaptionsStatus.EMPTY: OperationState.PENDING,
    CaptionsStatus.IN_PROGRESS: OperationState.IN_PROGRESS,
    CaptionsStatus.COMPLETED: OperationState.COMPLETED,
    CaptionsStatus.FAILED: OperationState.FAILED,
    CaptionsStatus.UNKNOWN: OperationState.UNKNOWN,
}
_JOB_STATE = {
    JobStatus.IN_PROGRESS: OperationState.IN_PROGRESS,
    JobStatus.COMPLETED: OperationState.COMPLETED,
    JobStatus.ERROR: OperationState.FAILED,
    JobStatus.UNKNOWN: OperationState.UNKNOWN,
}

_E = TypeVar("_E", bound=StrEnum)
_SQUASH = re.compile(r"[^a-z0-9]+")


def _lookup(spellings: Mapping[Any, tuple[str, ...]]) -> dict[str, StrEnum]:
    return {spelling: member for member, names in spellings.items() for spelling in names}


_TABLES: dict[type[StrEnum], dict[str, StrEnum]] = {
    ModelStatus: _lookup(_MODEL_SPELLINGS),
    DatasetStatus: _lookup(_DATASET_SPELLINGS),
    CaptionsStatus: _lookup(_CAPTIONS_SPELLINGS),
    JobStatus: _lookup(_JOB_SPELLINGS),
    ProjectStatus: _lookup(_PROJECT_SPELLINGS),
}


def normalise(enum: type[_E], value: object) -> _E:
    """``value`` as a member of ``enum``, whatever its case or separators; else ``UNKNOWN``."""
    if isinstance(value, enum):
        return value
    unknown = enum("unknown")
    if not isinstance(value, str):
        return unknown
    found = _TABLES[enum].get(_SQUASH.sub("", value.lower()))
    return unknown if found is None else enum(found.value)
