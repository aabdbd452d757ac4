"""CloudEvents 1.0 binary-mode Kafka headers for events (docs/architecture.md §2)."""

from collections.abc import Iterable, Mapping
from datetime import datetime

from bria_fleet_contracts.envelope import EventBase

SPEC_VERSION = "1.0"
TYPE_PREFIX = "ai.bria.fleet."
CONTENT_TYPE = "application/json"

HeaderInput = Mapping[str, str | bytes] | Iterable[tuple[str, str | bytes]]


def default_source(event: EventBase) -> str:
    """``/bria-fleet/<domain>`` of the event."""
    return f"/bria-fleet/{event.domain}"


def rfc3339(moment: datetime) -> str:
    """An aware datetime as RFC 3339 in UTC, ``Z``-suffixed."""
    return moment.isoformat().replace("+00:00", "Z")


def cloudevent_headers(event: EventBase, source: str | None = None) -> dict[str, str]:
    """The CloudEvents headers of ``event``; ``source`` defaults to ``/bria-fleet/<domain>``."""
    return {
        "ce_specversion": SPEC_VERSION,
        "ce_id": str(event.event_id),
        "ce_source": source or default_source(event),
        "ce_type": TYPE_PREFIX + event.type,
        "ce_time": rfc3339(event.occurred_at),
        "ce_subject": event.job_id,
        "content-type": CONTENT_TYPE,
    }


def kafka_headers(headers: Mapping[str, str]) -> list[tuple[str, bytes]]:
    """Headers as aiokafka takes them: (name, UTF-8 bytes) pairs."""
    return [(name, value.encode("utf-8")) for name, value in headers.items()]


def _as_text(headers: HeaderInput) -> dict[str, str]:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return {
        name: value.decode("utf-8") if isinstance(value, bytes) else value for name, value in pairs
    }


def verify_cloudevent_headers(
    headers: HeaderInput, event: EventBase, source: str | None = None
) -> None:
    """Raise ValueError naming every header that is missing or does not match ``event``.

    With ``source`` None any non-empty ``ce_source`` is accepted.
    """
    actual = _as_text(headers)
    expected = cloudevent_headers(event, source)
    problems: list[str] = []
    for name, value in expected.items():
        if name == "ce_source" and source is None:
            if not actual.get(name):
                problems.append("ce_source is missing")
            continue
        if name not in actual:
            problems.append(f"{name} is missing")
        elif actual[name] != value:
            problems.append(f"{name} is {actual[name]!r}, expected {value!r}")
    if problems:
        raise ValueError("CloudEvents headers do not match the event: " + "; ".join(problems))
