"""CloudEvents 1.0 binary-mode headers."""

import pytest

from bria_fleet_contracts import cloudevent_headers, kafka_headers, verify_cloudevent_headers
from bria_fleet_contracts.event_examples import example_event


def test_headers_carry_the_event_s_attributes() -> None:
    event = example_event("generation.completed", job_id="job-9")
    assert cloudevent_headers(event) == {
        "ce_specversion": "1.0",
        "ce_id": str(event.event_id),
        "ce_source": "/bria-fleet/generation",
        "ce_type": "ai.bria.fleet.generation.completed",
        "ce_time": "2025-03-01T12:30:00Z",
        "ce_subject": "job-9",
        "content-type": "application/json",
    }


def test_the_source_can_be_given() -> None:
    event = example_event("training.started")
    assert cloudevent_headers(event, "/bria-fleet/eu-1/training")["ce_source"] == (
        "/bria-fleet/eu-1/training"
    )


def test_kafka_headers_are_utf8_byte_pairs() -> None:
    pairs = kafka_headers({"ce_subject": "jöb"})
    assert pairs == [("ce_subject", "jöb".encode())]


def test_verify_accepts_the_headers_of_the_event_as_kafka_pairs() -> None:
    event = example_event("ingest.progress")
    verify_cloudevent_headers(kafka_headers(cloudevent_headers(event)), event)


def test_verify_names_missing_and_mismatched_headers() -> None:
    event = example_event("ingest.completed")
    headers = cloudevent_headers(event)
    del headers["ce_time"]
    headers["ce_type"] = "ai.bria.fleet.ingest.failed"
    with pytest.raises(ValueError, match="do not match the event") as caught:
        verify_cloudevent_headers(headers, event)
    message = str(caught.value)
    assert "ce_time is missing" in message
    assert (
        "ce_type is 'ai.bria.fleet.ingest.failed', expected 'ai.bria.fleet.ingest.completed'"
        in (message)
    )


def test_verify_checks_the_source_only_when_given() -> None:
    event = example_event("caption.failed")
    headers = cloudevent_headers(event, "/elsewhere")
    verify_cloudevent_headers(headers, event)
    with pytest.raises(ValueError, match="ce_source is '/elsewhere'"):
        verify_cloudevent_headers(headers, event, "/bria-fleet/caption")
