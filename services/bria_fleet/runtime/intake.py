"""What a consumed record must be before it is read as a job (issue 14).

Every record on a request or retry topic ends as a job or in the dead-letter topic, with a
reason code: ``request_too_large`` (the record, or its JSON echo in events, is over
``WORKER_MAX_REQUEST_BYTES``; not read further), ``invalid_headers`` (a fleet header,
``bria_attempt`` or ``bria_due_at``, that the fleet cannot have written), or
``invalid_request`` (the value does not parse: see ``bria_fleet_contracts.parse_request``).
Sizes are checked before parsing, and the waits a record can ask for are bounded.
"""

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from bria_fleet.runtime.bounds import record_size
from bria_fleet.runtime.events import request_fields
from bria_fleet.runtime.outcomes import RequestT
from bria_fleet_contracts import InvalidRequest, headers
from bria_fleet_contracts.parsing import printable, quoted

MAX_ATTEMPT = 1_000_000
"""The largest ``bria_attempt`` read as a number (the retry policy gives up long before)."""

_DECIMAL = re.compile(r"[0-9]{1,7}")


class RefusedRequest(InvalidRequest):
    """A request refused before or after parsing, with the dead-letter reason ``code``."""

    def __init__(self, code: str, reason: str, job_id: str | None = None) -> None:
        super().__init__(reason, job_id)
        self.code = code


def attempt_of(fleet_headers: Mapping[str, str]) -> int:
    """``bria_attempt`` as a number; 0 when absent or unreadable (refused by :func:`admit`)."""
    text = fleet_headers.get(headers.ATTEMPT)
    if text is None or not _DECIMAL.fullmatch(text):
        return 0
    return int(text)


def due_time(fleet_headers: Mapping[str, str], horizon_seconds: float) -> datetime | None:
    """When a retried request is due: ``None`` when it has no due time, or one that cannot be
    honoured (unreadable, without a timezone, further ahead than ``horizon_seconds``)."""
    problem, due = _read_due(fleet_headers, horizon_seconds, datetime.now(UTC))
    return None if problem else due


def header_problem(
    fleet_headers: Mapping[str, str], horizon_seconds: float, now: datetime
) -> str | None:
    """Why the fleet's own headers on a record cannot be from the fleet, or ``None``."""
    attempt = fleet_headers.get(headers.ATTEMPT)
    if attempt is not None and (not _DECIMAL.fullmatch(attempt) or int(attempt) > MAX_ATTEMPT):
        return f"{headers.ATTEMPT} is not an attempt count: {quoted(attempt)}"
    return _read_due(fleet_headers, horizon_seconds, now)[0]


def _read_due(
    fleet_headers: Mapping[str, str], horizon_seconds: float, now: datetime
) -> tuple[str | None, datetime | None]:
    text = fleet_headers.get(headers.DUE_AT)
    if text is None:
        return None, None
    try:
        due = datetime.fromisoformat(text)
    except ValueError:
        return f"{headers.DUE_AT} is not an RFC 3339 time: {quoted(text)}", None
    if due.tzinfo is None or due.utcoffset() is None:
        return f"{headers.DUE_AT} has no timezone: {quoted(text)}", None
    ahead = (due - now).total_seconds()
    if ahead > horizon_seconds:
        return (
            f"{headers.DUE_AT} is {ahead:.0f} s ahead, further than any retry waits"
            f" ({horizon_seconds:.0f} s): {quoted(text)}",
            None,
        )
    return None, due


def admit(
    value: bytes | None,
    key: bytes | None,
    fleet_headers: Mapping[str, str],
    parse: Callable[[bytes | None], RequestT],
    *,
    max_request_bytes: int,
    due_horizon_seconds: float,
) -> RequestT:
    """The request a record carries, or :class:`RefusedRequest` / ``InvalidRequest`` saying
    why it is not one. A record over ``max_request_bytes`` is not parsed."""
    size = record_size(key, value, fleet_headers)
    if size > max_request_bytes:
        raise RefusedRequest(
            "request_too_large",
            f"the record is {size} bytes, over the limit of {max_request_bytes}"
            " (WORKER_MAX_REQUEST_BYTES); it was not read",
        )
    problem = header_problem(fleet_headers, due_horizon_seconds, datetime.now(UTC))
    if problem is not None:
        raise RefusedRequest("invalid_headers", printable(problem), _job_id_in(value, parse))
    request = parse(value)
    # Events echo the request as ASCII JSON: at most 3 times its size, so only a large
    # request needs measuring.
    if 3 * size > max_request_bytes:
        echo = len(json.dumps(request_fields(request)))
        if echo > max_request_bytes:
            raise RefusedRequest(
                "request_too_large",
                f"the request's JSON echo in events would be {echo} bytes, over the limit of"
                f" {max_request_bytes} (WORKER_MAX_REQUEST_BYTES)",
                request.job_id,
            )
    return request


def _job_id_in(value: bytes | None, parse: Callable[[bytes | None], RequestT]) -> str | None:
    try:
        return parse(value).job_id
    except InvalidRequest as invalid:
        return invalid.job_id
