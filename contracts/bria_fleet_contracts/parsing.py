"""Parse raw Kafka payloads into requests and events, with errors people can read."""

import json
import re
from collections.abc import Mapping
from typing import Any, Literal, overload

from pydantic import TypeAdapter, ValidationError

from bria_fleet_contracts._base import JobId
from bria_fleet_contracts._errors import describe_errors
from bria_fleet_contracts.caption import CaptionRequest
from bria_fleet_contracts.envelope import EventBase
from bria_fleet_contracts.events import EVENT_TYPES, Event
from bria_fleet_contracts.generation import GenerationRequest
from bria_fleet_contracts.ingest import IngestRequest
from bria_fleet_contracts.registry import domain_of_op, ops_for, request_adapter
from bria_fleet_contracts.topics import DOMAINS, Domain
from bria_fleet_contracts.training import TrainingRequest

Raw = bytes | bytearray | str | Mapping[str, Any] | None
"""A message as it may arrive; ``None`` is a Kafka null value (refused as empty)."""

MAX_REASON_LENGTH = 2000


def printable(text: str, limit: int = MAX_REASON_LENGTH) -> str:
    """``text`` safe for one log line or header: non-printable characters (newlines, control
    characters, lone surrogates) escaped, and cut to ``limit`` characters."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else f"{text[:limit]}... (cut)"


class ContractError(ValueError):
    """A message that does not satisfy its contract; ``reason`` is one printable line."""

    def __init__(self, reason: str) -> None:
        reason = printable(reason)
        super().__init__(reason)
        self.reason = reason


class InvalidRequest(ContractError):  # noqa: N818 - the name upstream code catches
    """A request that does not parse; ``job_id`` is set when the raw JSON carried one."""

    def __init__(self, reason: str, job_id: str | None = None) -> None:
        super().__init__(reason)
        self.job_id = job_id


class InvalidEvent(ContractError):  # noqa: N818 - pairs with InvalidRequest
    """An event that does not parse."""


MAX_JSON_DEPTH = 64
"""The deepest nesting of arrays and objects a message may have; deeper ones are refused
before they are parsed (no request needs more than a few levels)."""

MAX_JSON_ITEMS = 10_000
"""The most array items and object members a message may have in all; more are refused
before they are parsed (validating each costs time on the event loop)."""

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},]')
_JOB_ID: TypeAdapter[str] = TypeAdapter(JobId)


def json_shape_problem(
    text: str, max_depth: int = MAX_JSON_DEPTH, max_items: int = MAX_JSON_ITEMS
) -> str | None:
    """Why ``text`` is too deep or too long to parse, or ``None`` (strings are skipped).

    Linear and iterative, so it is safe on any input; a text with few brackets and commas
    in all is answered without scanning.
    """
    brackets = text.count("[") + text.count("{")
    if brackets <= max_depth and brackets + text.count(",") <= max_items:
        return None
    depth = items = 0
    for token in _TOKEN.finditer(text):
        symbol = token.group()
        if symbol in "[{":
            depth += 1
            items += 1
            if depth > max_depth:
                return f"nested more than {max_depth} levels deep"
        elif symbol in "]}":
            depth -= 1
        elif symbol == ",":
            items += 1
        if items > max_items:
            return f"longer than {max_items} values"
    return None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _load(raw: Raw) -> Any:
    """Decode ``raw`` into a JSON value; a ValueError says what is wrong."""
    if raw is None:
        raise ValueError("empty (a null value)")
    if isinstance(raw, Mapping):
        return dict(raw)
    if isinstance(raw, bytes | bytearray):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(f"not valid UTF-8: {exc.reason} at byte {exc.start}") from None
    if not raw.strip():
        raise ValueError("empty")
    problem = json_shape_problem(raw)
    if problem is not None:
        raise ValueError(problem)
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
    except RecursionError:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep") from None
    except ValueError as exc:  # NaN, an integer too long to convert, ...
        raise ValueError(f"not valid JSON: {exc}") from None


def usable_job_id(value: Any) -> str | None:
    """``value`` if it is a valid job id (the contract's ``JobId``), else ``None``.

    Only a usable job id gets events: 1 to 512 characters, no whitespace, no control
    characters, valid Unicode. A request whose ``job_id`` is anything else is dead-lettered
    without a failure event, since no event could name its job.
    """
    if not isinstance(value, str) or not value or len(value) > 512:
        return None
    try:
        return _JOB_ID.validate_python(value)
    except ValidationError:
        return None


def quoted(text: str, limit: int = 80) -> str:
    """``text`` quoted for a reason or a log line: escaped (no newline or control character
    survives) and cut to ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


def _object(raw: Raw) -> tuple[dict[str, Any], str | None]:
    value = _load(raw)
    if not isinstance(value, dict):
        raise ValueError(f"not a JSON object (got {type(value).__name__})")
    return value, usable_job_id(value.get("job_id"))


def _op_problem(domain: Domain, value: dict[str, Any]) -> str | None:
    valid = ", ".join(ops_for(domain))
    if "op" not in value:
        return f"op is missing; valid ops: {valid}"
    op = value["op"]
    if op in ops_for(domain):
        return None
    home = domain_of_op(op) if isinstance(op, str) else None
    hint = f" (it is a {home} op: send it to bria.{home}.requests)" if home else ""
    return f"unknown op {op!r}{hint}; valid ops: {valid}"


@overload
def parse_request(domain: Literal["ingest"], raw: Raw) -> IngestRequest: ...
@overload
def parse_request(domain: Literal["caption"], raw: Raw) -> CaptionRequest: ...
@overload
def parse_request(domain: Literal["training"], raw: Raw) -> TrainingRequest: ...
@overload
def parse_request(domain: Literal["generation"], raw: Raw) -> GenerationRequest: ...
@overload
def parse_request(domain: Domain, raw: Raw) -> Any: ...
def parse_request(domain: Domain, raw: Raw) -> Any:
    """Parse a request of ``domain`` from JSON bytes, text or a mapping.

    Raises InvalidRequest with a one-line reason, e.g. ``generation request 'job-7' is
    invalid: num_results: Input should be less than or equal to 4``; its ``job_id`` is set
    only when the request carries a usable one (:func:`usable_job_id`).
    """
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; domains: {', '.join(DOMAINS)}")
    try:
        value, job_id = _object(raw)
    except ValueError as exc:
        raise InvalidRequest(f"{domain} request is {exc}") from None
    subject = f"{domain} request {quoted(job_id)}" if job_id else f"{domain} request"
    problem = _op_problem(domain, value)
    if problem:
        raise InvalidRequest(f"{subject} is invalid: {problem}", job_id)
    try:
        return request_adapter(domain).validate_python(value)
    except ValidationError as exc:
        reason = describe_errors(exc.errors(), drop_tags=ops_for(domain))
        raise InvalidRequest(f"{subject} is invalid: {reason}", job_id) from None


_EVENT: TypeAdapter[Any] = TypeAdapter(Event)


def parse_event(raw: Raw) -> EventBase:
    """Parse any event from JSON bytes, text or a mapping; raises InvalidEvent."""
    try:
        value, _ = _object(raw)
    except ValueError as exc:
        raise InvalidEvent(f"event is {exc}") from None
    event_type = value.get("type")
    if event_type not in EVENT_TYPES:
        raise InvalidEvent(
            f"event has unknown type {event_type!r}; known types: {', '.join(EVENT_TYPES)}"
        )
    try:
        event: EventBase = _EVENT.validate_python(value)
    except ValidationError as exc:
        subject = f"{event_type} event"
        if isinstance(value.get("event_id"), str):
            subject += f" {value['event_id']}"
        reason = describe_errors(exc.errors(), drop_tags=EVENT_TYPES)
        raise InvalidEvent(f"{subject} is invalid: {reason}") from None
    return event
