"""One example event of every type: for the documents other teams read, and for tests."""

from datetime import UTC, datetime
from typing import Any

from bria_fleet_contracts.envelope import EventBase
from bria_fleet_contracts.events import EventType, make_event

EXAMPLE_TIME = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
EXAMPLE_FAILURE = {
    "code": "not_found",
    "message": "Model not found",
    "retriable": False,
    "http_status": 404,
}
T2I = {"job_id": "job-1", "op": "text_to_image", "model_id": "300", "prompt": "a cat"}

EXAMPLE_EVENT_DATA: dict[EventType, dict[str, Any]] = {
    "ingest.progress": {
        "dataset_id": "201",
        "total": 10,
        "processed": 4,
        "uploaded": 3,
        "skipped": 1,
        "failed": 0,
    },
    "ingest.completed": {
        "op": "ingest_images",
        "project_id": "100",
        "dataset_id": "201",
        "dataset_status": "completed",
        "total": 2,
        "uploaded": 1,
        "skipped": 1,
        "image_ids": {"a.png": "2014"},
    },
    "ingest.failed": {"op": "ingest_images", "dataset_id": "201", "uploaded": 1},
    "caption.completed": {"op": "generate_prefix", "caption_prefix": "An illustration of"},
    "caption.failed": {"op": "update_caption", "dataset_id": "201", "image_id": "2011"},
    "training.started": {
        "model_id": "303",
        "dataset_id": "200",
        "training_version": "light",
        "started_at": EXAMPLE_TIME,
        "deadline_at": EXAMPLE_TIME,
    },
    "training.status_changed": {
        "model_id": "303",
        "previous_status": "created",
        "status": "in_progress",
        "raw_status": "InProgress",
    },
    "training.completed": {"model_id": "303", "dataset_id": "200", "duration_seconds": 3600.5},
    "training.failed": {"op": "train_model", "model_id": "303", "status": "failed"},
    "training.stopped": {"model_id": "303", "reason": "requested"},
    "generation.completed": {
        "op": "text_to_image",
        "model_id": "300",
        "assets": [{"url": "https://sim.example/a.png", "kind": "image", "seed": 7}],
        "ip_warning": "This prompt may contain intellectual property (IP)-protected content.",
        "request": {**T2I, "job_id": "example-job"},
    },
    "generation.failed": {"op": "text_to_image", "model_id": "300"},
}


def example_event(event_type: EventType, job_id: str = "job-1") -> EventBase:
    """A valid event of ``event_type``, with an error when the type is a failure."""
    error = EXAMPLE_FAILURE if event_type.endswith(".failed") else None
    return make_event(
        event_type,
        job_id,
        EXAMPLE_EVENT_DATA[event_type],
        {"team": "growth"},
        error=error,
        occurred_at=EXAMPLE_TIME,
    )
