"""Pipelines in one message: turn a job's ``then`` into follow-up requests.

See docs/architecture.md §5.
"""

import re
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from pydantic import ValidationError

from bria_fleet_contracts._errors import describe_errors
from bria_fleet_contracts.envelope import EventBase, FollowUp
from bria_fleet_contracts.registry import ops_for, request_adapter
from bria_fleet_contracts.topics import Domain

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
"""``{name}`` with a lower-case identifier; other braces (JSON in strings) are left alone."""


class FollowUpError(ValueError):
    """A follow-up that cannot be rendered: the message names the step and the problem."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(reason)
        self.step = step
        self.reason = reason


class RenderedFollowUp(NamedTuple):
    """A follow-up ready to publish on ``bria.<domain>.requests``."""

    domain: Domain
    request: dict[str, Any]

    @property
    def job_id(self) -> str:
        """The derived job id, ``<parent job_id>/<step>``."""
        job_id: str = self.request["job_id"]
        return job_id


def placeholder_values(event: EventBase) -> dict[str, str]:
    """The values a completed job offers its follow-ups: ``job_id`` and its data's scalars."""
    return {"job_id": event.job_id, **event.data.placeholders()}


def _fill(value: Any, values: Mapping[str, str], path: str, missing: list[str] | None) -> Any:
    """Fill placeholders in every string; record unknown ones in ``missing`` unless None.

    Inside a nested ``then`` unknown placeholders are kept: the follow-up fills them from
    its own result when it completes.
    """
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return values[name]
            if missing is not None:
                missing.append(f"{{{name}}} in {path}")
            return match.group(0)

        return PLACEHOLDER.sub(substitute, value)
    if isinstance(value, Mapping):
        return {
            key: _fill(
                item,
                values,
                f"{path}.{key}" if path else str(key),
                None if key == "then" else missing,
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_fill(item, values, f"{path}[{i}]", missing) for i, item in enumerate(value)]
    return value


def render_follow_up(
    parent_job_id: str,
    follow_up: FollowUp,
    values: Mapping[str, str],
    *,
    metadata: Mapping[str, str] | None = None,
) -> RenderedFollowUp:
    """Fill one follow-up, derive its job id and validate it against its domain's model."""
    step, domain = follow_up.step, follow_up.domain
    known = {"job_id": parent_job_id, **values}
    missing: list[str] = []
    body = _fill(follow_up.request, known, "", missing)
    if missing:
        raise FollowUpError(
            step,
            f"follow-up '{step}' ({domain}) has unknown placeholder "
            f"{', '.join(missing)}; known: {', '.join(sorted(known))}",
        )
    request = {"job_id": f"{parent_job_id}/{step}", **body}
    own = body.get("metadata")
    if metadata and (own is None or isinstance(own, Mapping)):
        request["metadata"] = {**metadata, **(own or {})}
    try:
        request_adapter(domain).validate_python(request)
    except ValidationError as exc:
        reason = describe_errors(exc.errors(), drop_tags=ops_for(domain))
        raise FollowUpError(step, f"follow-up '{step}' ({domain}) is invalid: {reason}") from None
    return RenderedFollowUp(domain, request)


def render_follow_ups(
    parent_job_id: str,
    then: Sequence[FollowUp],
    values: Mapping[str, str],
    *,
    metadata: Mapping[str, str] | None = None,
) -> list[RenderedFollowUp]:
    """Render every follow-up of a finished job, in order.

    ``values`` are the parent's results (e.g. from ``placeholder_values``); the parent's
    ``job_id`` is always available as ``{job_id}``. ``metadata`` (the parent's) is inherited,
    the follow-up's own entries winning. Raises FollowUpError on the first bad follow-up.
    """
    return [
        render_follow_up(parent_job_id, follow_up, values, metadata=metadata) for follow_up in then
    ]
