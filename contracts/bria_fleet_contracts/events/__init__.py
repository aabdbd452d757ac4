"""Every event type, which are terminal, and ``make_event``."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, Field

from bria_fleet_contracts.envelope import EventBase, EventData, EventError, event_id_for
from bria_fleet_contracts.events.caption import CaptionCompletedEvent, CaptionFailedEvent
from bria_fleet_contracts.events.generation import (
    GenerationCompletedEvent,
    GenerationFailedEvent,
)
from bria_fleet_contracts.events.ingest import (
    IngestCompletedEvent,
    IngestFailedEvent,
    IngestProgressEvent,
)
from bria_fleet_contracts.events.training import (
    TrainingCompletedEvent,
    TrainingFailedEvent,
    TrainingStartedEvent,
    TrainingStatusChangedEvent,
    TrainingStoppedEvent,
)
from bria_fleet_contracts.topics import DOMAINS, Domain

Event = Annotated[
    IngestProgressEvent
    | IngestCompletedEvent
    | IngestFailedEvent
    | CaptionCompletedEvent
    | CaptionFailedEvent
    | TrainingStartedEvent
    | TrainingStatusChangedEvent
    | TrainingCompletedEvent
    | TrainingFailedEvent
    | TrainingStoppedEvent
    | GenerationCompletedEvent
    | GenerationFailedEvent,
    Field(discriminator="type"),
]
"""Any event, discriminated by ``type``."""

EventType = Literal[
    "ingest.progress",
    "ingest.completed",
    "ingest.failed",
    "caption.completed",
    "caption.failed",
    "training.started",
    "training.status_changed",
    "training.completed",
    "training.failed",
    "training.stopped",
    "generation.completed",
    "generation.failed",
]

EVENT_MODELS: tuple[type[EventBase], ...] = tuple(get_args(get_args(Event)[0]))
EVENT_MODEL_BY_TYPE: dict[str, type[EventBase]] = {
    model.model_fields["type"].default: model for model in EVENT_MODELS
}
EVENT_TYPES: tuple[str, ...] = tuple(EVENT_MODEL_BY_TYPE)
EVENT_TYPES_BY_DOMAIN: dict[Domain, tuple[str, ...]] = {
    domain: tuple(t for t, model in EVENT_MODEL_BY_TYPE.items() if model.domain == domain)
    for domain in DOMAINS
}
TERMINAL_EVENT_TYPES: frozenset[str] = frozenset(
    t for t, model in EVENT_MODEL_BY_TYPE.items() if model.terminal
)
"""The types a job can end in: ``*.completed``, ``*.failed`` and ``training.stopped``."""
TERMINAL_EVENT_TYPES_BY_DOMAIN: dict[Domain, frozenset[str]] = {
    domain: TERMINAL_EVENT_TYPES & frozenset(EVENT_TYPES_BY_DOMAIN[domain]) for domain in DOMAINS
}


def is_terminal(type: str) -> bool:
    """Whether a job ends with an event of this type."""
    return type in TERMINAL_EVENT_TYPES


def make_event(
    type: str,
    job_id: str,
    data: EventData | Mapping[str, Any],
    metadata: Mapping[str, str] | None = None,
    *,
    error: EventError | Mapping[str, Any] | None = None,
    discriminator: str = "",
    occurred_at: datetime | None = None,
) -> EventBase:
    """Build and validate an event; its id is ``event_id_for(job_id, type, discriminator)``.

    ``type`` is one of ``EventType`` (ValueError otherwise).

    ``discriminator`` tells apart events of one type in one job (the progress count, the
    new status); it must not depend on the attempt, so a redelivered job re-emits the same id.
    """
    model = EVENT_MODEL_BY_TYPE.get(type)
    if model is None:
        raise ValueError(f"unknown event type {type!r}; known: {', '.join(EVENT_TYPES)}")
    fields: dict[str, Any] = {
        "event_id": event_id_for(job_id, type, discriminator),
        "type": type,
        "job_id": job_id,
        "occurred_at": occurred_at or datetime.now(UTC),
        "data": data if isinstance(data, BaseModel) else dict(data),
        "metadata": dict(metadata or {}),
    }
    if error is not None:
        fields["error"] = error
    return model.model_validate(fields)
