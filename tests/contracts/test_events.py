"""Events: typed data, deterministic ids, terminal types, parsing."""

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, get_args

import jsonschema
import pytest
from pydantic import ValidationError

from bria_fleet_contracts import (
    EVENT_TYPES,
    EVENT_TYPES_BY_DOMAIN,
    OPS_BY_DOMAIN,
    TERMINAL_EVENT_TYPES,
    TERMINAL_EVENT_TYPES_BY_DOMAIN,
    CaptionCompletedEvent,
    GenerationCompletedEvent,
    InvalidEvent,
    PrefixResult,
    TextToImageRequest,
    TrainingCompletedData,
    TrainingCompletedEvent,
    event_id_for,
    is_terminal,
    make_event,
    parse_event,
)
from bria_fleet_contracts.event_examples import (
    EXAMPLE_EVENT_DATA,
    EXAMPLE_FAILURE,
    EXAMPLE_TIME,
    example_event,
)
from bria_fleet_contracts.events.caption import CaptionOp
from bria_fleet_contracts.events.generation import GenerationOp
from bria_fleet_contracts.events.ingest import IngestOp
from bria_fleet_contracts.events.training import TrainingOp
from bria_fleet_contracts.schemas import build_schemas
from bria_fleet_contracts.topics import Domain


def test_every_event_type_has_a_sample() -> None:
    assert set(EXAMPLE_EVENT_DATA) == set(EVENT_TYPES)


def test_event_ids_are_deterministic() -> None:
    first = make_event("training.completed", "job-1", EXAMPLE_EVENT_DATA["training.completed"])
    again = make_event(
        "training.completed",
        "job-1",
        EXAMPLE_EVENT_DATA["training.completed"],
        occurred_at=datetime.now(UTC) + timedelta(hours=1),
    )
    assert first.event_id == again.event_id == event_id_for("job-1", "training.completed")


def test_event_ids_differ_by_type_discriminator_and_job() -> None:
    ids = {
        event_id_for("job-1", "training.status_changed", "in_progress"),
        event_id_for("job-1", "training.status_changed", "completed"),
        event_id_for("job-1", "training.completed"),
        event_id_for("job-2", "training.completed"),
        event_id_for("job-1", "ingest.progress", "10"),
        event_id_for("job-1", "ingest.progress", "20"),
    }
    assert len(ids) == 6


def test_event_ids_are_uuid5() -> None:
    assert event_id_for("job-1", "ingest.completed").version == 5


def test_make_event_returns_the_type_s_model_with_typed_data() -> None:
    event = make_event(
        "training.completed",
        "job-1",
        TrainingCompletedData(model_id="303", dataset_id="200", duration_seconds=60),
        {"team": "growth"},
    )
    assert isinstance(event, TrainingCompletedEvent)
    assert event.data.model_id == "303"
    assert event.metadata == {"team": "growth"}
    assert event.error is None


def test_caption_completed_data_is_typed_by_op() -> None:
    event = example_event("caption.completed")
    assert isinstance(event, CaptionCompletedEvent)
    assert isinstance(event.data, PrefixResult)


def test_generation_completed_echoes_the_request_as_a_model() -> None:
    event = example_event("generation.completed")
    assert isinstance(event, GenerationCompletedEvent)
    assert isinstance(event.data.request, TextToImageRequest)
    assert event.data.request.prompt == "a cat"
    assert event.data.assets[0].kind == "image"


def test_failure_events_require_an_error() -> None:
    with pytest.raises(ValidationError, match="error"):
        make_event("generation.failed", "job-1", EXAMPLE_EVENT_DATA["generation.failed"])
    event = make_event(
        "generation.failed", "job-1", EXAMPLE_EVENT_DATA["generation.failed"], error=EXAMPLE_FAILURE
    )
    assert event.error is not None
    assert event.error.http_status == 404


def test_unknown_event_types_are_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown event type 'training\.done'"):
        make_event("training.done", "job-1", {})


def test_occurred_at_is_normalised_to_utc() -> None:
    paris = timezone(timedelta(hours=1))
    event = make_event(
        "training.stopped",
        "job-1",
        EXAMPLE_EVENT_DATA["training.stopped"],
        occurred_at=datetime(2025, 3, 1, 13, 30, tzinfo=paris),
    )
    assert event.occurred_at == EXAMPLE_TIME
    assert event.occurred_at.tzinfo == UTC
    assert event.model_dump(mode="json")["occurred_at"] == "2025-03-01T12:30:00Z"


def test_terminal_types_are_completed_failed_and_stopped() -> None:
    assert {
        "ingest.completed",
        "ingest.failed",
        "caption.completed",
        "caption.failed",
        "training.completed",
        "training.failed",
        "training.stopped",
        "generation.completed",
        "generation.failed",
    } == TERMINAL_EVENT_TYPES
    assert not is_terminal("ingest.progress")
    assert not is_terminal("training.status_changed")
    assert TERMINAL_EVENT_TYPES_BY_DOMAIN["training"] == {
        "training.completed",
        "training.failed",
        "training.stopped",
    }


def test_every_domain_can_end_in_a_completed_and_a_failed_event() -> None:
    for domain, types in EVENT_TYPES_BY_DOMAIN.items():
        assert {f"{domain}.completed", f"{domain}.failed"} <= set(types)


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_round_trips_through_json(event_type: str) -> None:
    event = example_event(event_type)  # type: ignore[arg-type]
    parsed = parse_event(event.model_dump_json().encode())
    assert type(parsed) is type(event)
    assert parsed == event


@pytest.fixture(scope="module")
def schemas() -> dict[str, dict[str, Any]]:
    return build_schemas()


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_every_event_matches_its_json_schema(
    event_type: str, schemas: dict[str, dict[str, Any]]
) -> None:
    schema = schemas[f"event.{event_type}"]
    payload = example_event(event_type).model_dump(mode="json")  # type: ignore[arg-type]
    jsonschema.validate(payload, schema)


def test_parse_event_names_an_unknown_type() -> None:
    with pytest.raises(InvalidEvent, match=r"unknown type 'training\.done'"):
        parse_event({"type": "training.done"})


def test_parse_event_reports_invalid_fields_readably() -> None:
    payload = example_event("training.completed").model_dump(mode="json")
    payload["data"]["duration_seconds"] = -1
    with pytest.raises(InvalidEvent) as caught:
        parse_event(json.dumps(payload))
    assert caught.value.reason == (
        f"training.completed event {payload['event_id']} is invalid: "
        "data.duration_seconds: Input should be greater than or equal to 0"
    )


def test_events_tolerate_fields_from_newer_producers() -> None:
    payload = example_event("training.stopped").model_dump(mode="json")
    payload["data"]["new_field"] = 1
    payload["trace"] = "x"
    assert parse_event(payload) == example_event("training.stopped")


@pytest.mark.parametrize(
    ("domain", "op_type"),
    [
        ("ingest", IngestOp),
        ("caption", CaptionOp),
        ("training", TrainingOp),
        ("generation", GenerationOp),
    ],
)
def test_event_op_names_are_the_request_op_names(domain: Domain, op_type: Any) -> None:
    assert get_args(op_type) == OPS_BY_DOMAIN[domain]
