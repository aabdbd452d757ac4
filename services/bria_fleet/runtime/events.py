"""Turning what logic reports into the Kafka messages downstream systems read."""

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from bria_fleet.errors import FailureError
from bria_fleet.runtime.outcomes import EventData, EventSpec
from bria_fleet.runtime.records import OutboundMessage
from bria_fleet_contracts import (
    Domain,
    ErrorInfo,
    FollowUp,
    cloudevent_headers,
    make_event,
    render_follow_ups,
    topics_for,
)


def event_message(
    domain: Domain,
    spec: EventSpec,
    job_id: str,
    metadata: Mapping[str, str],
    error: ErrorInfo | None = None,
) -> OutboundMessage:
    """The event ``spec`` of ``job_id`` as a message for the domain's events topic."""
    data = spec.data.model_dump(mode="json") if isinstance(spec.data, BaseModel) else spec.data
    event = make_event(
        spec.type,
        job_id,
        dict(data),
        dict(metadata),
        error=error,
        discriminator=spec.discriminator,
    )
    return OutboundMessage(
        topic=topics_for(domain).events,
        key=job_id,
        value=event.model_dump(mode="json"),
        headers=cloudevent_headers(event, source=f"/bria-fleet/{domain}"),
    )


def error_info(error: BaseException) -> ErrorInfo:
    """What a failure event says about ``error``; anything but a ``FailureError`` is a bug."""
    if isinstance(error, FailureError):
        return ErrorInfo(
            code=error.code,
            message=str(error),
            retriable=error.retriable,
            http_status=error.http_status,
        )
    return ErrorInfo(code="internal_error", message=repr(error), retriable=True, http_status=None)


def failure_message(
    domain: Domain,
    job_id: str,
    metadata: Mapping[str, str],
    error: BaseException,
    data: EventData | None = None,
    *,
    event_type: str | None = None,
) -> OutboundMessage:
    """The failure event of ``job_id``: every failure event the fleet publishes is built here.

    Its type is ``event_type`` if given, else the error's own ``event_type`` (e.g.
    ``training.stopped``), else ``<domain>.failed``.
    """
    own_type = error.event_type if isinstance(error, FailureError) else None
    spec = EventSpec(event_type or own_type or f"{domain}.failed", data or {})
    return event_message(domain, spec, job_id, metadata, error_info(error))


def follow_up_messages(
    job_id: str,
    then: list[FollowUp],
    values: Mapping[str, str],
    metadata: Mapping[str, str],
) -> list[OutboundMessage]:
    """The ``then`` requests of a finished job, rendered and addressed to their domains.

    Raises ``FollowUpError`` naming the step when a placeholder or a field is wrong.
    """
    return [
        OutboundMessage(
            topic=topics_for(rendered.domain).requests,
            key=rendered.job_id,
            value=rendered.request,
        )
        for rendered in render_follow_ups(job_id, then, values, metadata=metadata)
    ]


def request_fields(request: BaseModel) -> dict[str, Any]:
    """The request as JSON-ready data, for echoing in events and storing in watches."""
    return request.model_dump(mode="json", exclude_none=True)
