"""Status strings are normalised case-insensitively, once, into enums and operation states."""

from __future__ import annotations

import pytest

from bria_fleet.api import (
    CaptionsStatus,
    DatasetStatus,
    JobStatus,
    ModelStatus,
    OperationState,
    normalise,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Created", ModelStatus.CREATED),
        ("created", ModelStatus.CREATED),
        ("InProgress", ModelStatus.IN_PROGRESS),
        ("in_progress", ModelStatus.IN_PROGRESS),
        ("IN_PROGRESS", ModelStatus.IN_PROGRESS),
        ("Training In Progress", ModelStatus.IN_PROGRESS),
        ("syncing", ModelStatus.IN_PROGRESS),
        ("Completed", ModelStatus.COMPLETED),
        ("completed", ModelStatus.COMPLETED),
        ("COMPLETED", ModelStatus.COMPLETED),
        ("ready", ModelStatus.COMPLETED),
        ("Failed", ModelStatus.FAILED),
        ("Stopping", ModelStatus.STOPPING),
        ("Stopped", ModelStatus.STOPPED),
        ("Deleted", ModelStatus.DELETED),
        ("something new", ModelStatus.UNKNOWN),
        (None, ModelStatus.UNKNOWN),
    ],
)
def test_model_status_spellings(raw: object, expected: ModelStatus) -> None:
    assert normalise(ModelStatus, raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("draft", DatasetStatus.DRAFT),
        ("completed", DatasetStatus.COMPLETED),
        ("COMPLETED", DatasetStatus.COMPLETED),
        ("Completed", DatasetStatus.COMPLETED),
        ("deleted", DatasetStatus.DELETED),
        ("archived", DatasetStatus.UNKNOWN),
    ],
)
def test_dataset_status_spellings(raw: str, expected: DatasetStatus) -> None:
    assert normalise(DatasetStatus, raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("empty", CaptionsStatus.EMPTY),
        ("in_progress", CaptionsStatus.IN_PROGRESS),
        ("InProgress", CaptionsStatus.IN_PROGRESS),
        ("completed", CaptionsStatus.COMPLETED),
        ("Completed", CaptionsStatus.COMPLETED),
        ("failed", CaptionsStatus.FAILED),
    ],
)
def test_captions_update_status_spellings(raw: str, expected: CaptionsStatus) -> None:
    assert normalise(CaptionsStatus, raw) is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("IN_PROGRESS", JobStatus.IN_PROGRESS),
        ("in_progress", JobStatus.IN_PROGRESS),
        ("COMPLETED", JobStatus.COMPLETED),
        ("completed", JobStatus.COMPLETED),
        ("ERROR", JobStatus.ERROR),
        ("UNKNOWN", JobStatus.UNKNOWN),
    ],
)
def test_async_job_status_spellings(raw: str, expected: JobStatus) -> None:
    assert normalise(JobStatus, raw) is expected


@pytest.mark.parametrize(
    ("status", "state", "terminal"),
    [
        (ModelStatus.CREATED, OperationState.PENDING, False),
        (ModelStatus.IN_PROGRESS, OperationState.IN_PROGRESS, False),
        (ModelStatus.STOPPING, OperationState.IN_PROGRESS, False),
        (ModelStatus.COMPLETED, OperationState.COMPLETED, True),
        (ModelStatus.FAILED, OperationState.FAILED, True),
        (ModelStatus.STOPPED, OperationState.STOPPED, True),
        (ModelStatus.UNKNOWN, OperationState.UNKNOWN, False),
    ],
)
def test_model_status_maps_to_an_operation_state(
    status: ModelStatus, state: OperationState, terminal: bool
) -> None:
    assert status.state is state
    assert state.is_terminal is terminal


def test_job_and_caption_statuses_map_to_operation_states() -> None:
    assert JobStatus.ERROR.state is OperationState.FAILED
    assert JobStatus.COMPLETED.state is OperationState.COMPLETED
    assert CaptionsStatus.EMPTY.state is OperationState.PENDING
    assert CaptionsStatus.COMPLETED.state is OperationState.COMPLETED
