"""The envelope every request and event shares (docs/architecture.md §2), and follow-ups
(docs/architecture.md §5)."""

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Self
from uuid import UUID, uuid5

from pydantic import (
    AwareDatetime,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from bria_fleet_contracts._base import (
    JOB_ID_MAX_LENGTH,
    EventModel,
    JobId,
    RequestModel,
    require_in_schema,
)
from bria_fleet_contracts._errors import describe_errors
from bria_fleet_contracts.topics import Domain

EVENT_ID_NAMESPACE = UUID("6f1c1f0e-3d0a-5b8e-9a57-0b7a1d2c4e11")
"""Namespace of the uuid5 event ids; changing it changes every event id."""

MAX_FOLLOW_UPS = 32
"""The most follow-ups one request may carry."""

StepName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_-]+$")]


class FollowUp(RequestModel):
    """A request for another domain, published when this job succeeds (docs/architecture.md §5).

    ``request`` is the follow-up's body without ``job_id`` (derived as
    ``<parent job_id>/<step>``). String values may hold ``{placeholder}``s filled from
    the parent's result; the body is fully validated once they are filled.
    """

    step: StepName
    domain: Domain
    request: dict[str, Any]

    @model_validator(mode="after")
    def _check_request(self) -> Self:
        if "job_id" in self.request:
            raise ValueError("request must not carry job_id: it is derived as <job_id>/<step>")
        op = self.request.get("op")
        ops = _OPS_BY_DOMAIN.get(self.domain, [])
        valid = ", ".join(ops)
        if not isinstance(op, str):
            raise ValueError(f"request needs an op; valid {self.domain} ops: {valid}")
        if op not in ops:
            home = next((d for d, known in _OPS_BY_DOMAIN.items() if op in known), None)
            hint = f" ({op} is a {home} op)" if home else ""
            raise ValueError(f"unknown {self.domain} op '{op}'{hint}; valid ops: {valid}")
        nested = self.request.get("then")
        if nested is not None:
            try:
                validate_follow_ups(nested)
            except ValidationError as exc:
                raise ValueError(describe_errors(exc.errors(), prefix="request.then")) from None
        return self


def validate_follow_ups(value: Any) -> list[FollowUp]:
    """Validate a ``then`` list: follow-up shapes, ops, and unique step names."""
    return _FOLLOW_UPS.validate_python(value)


def _unique_steps(then: list[FollowUp]) -> list[FollowUp]:
    steps = [follow_up.step for follow_up in then]
    duplicates = sorted({step for step in steps if steps.count(step) > 1})
    if duplicates:
        raise ValueError(f"step names must be unique, repeated: {', '.join(duplicates)}")
    return then


_FOLLOW_UPS: TypeAdapter[list[FollowUp]] = TypeAdapter(
    Annotated[list[FollowUp], Field(max_length=MAX_FOLLOW_UPS)]
)


_OPS_BY_DOMAIN: dict[Domain, list[str]] = {}
"""Every request op by domain, in declaration order, filled as request models are defined.

``FollowUp`` checks ops here, so this module needs no import of the registry (which imports
every domain module, which import this one).
"""


class RequestBase(RequestModel):
    """Fields every request carries; each domain module adds the ``op`` and its fields."""

    model_config = ConfigDict(json_schema_extra=require_in_schema("op"))

    domain: ClassVar[Domain]

    job_id: JobId
    op: str
    metadata: dict[str, str] = Field(
        default_factory=dict, description="Echoed unchanged on every event of the job."
    )
    then: list[FollowUp] = Field(
        default_factory=list,
        max_length=MAX_FOLLOW_UPS,
        description="Follow-up requests published when this job succeeds.",
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        op = cls.model_fields["op"].default
        if isinstance(op, str) and op and op not in _OPS_BY_DOMAIN.get(cls.domain, []):
            _OPS_BY_DOMAIN.setdefault(cls.domain, []).append(op)

    @field_validator("then")
    @classmethod
    def _check_then(cls, then: list[FollowUp]) -> list[FollowUp]:
        return _unique_steps(then)

    @model_validator(mode="after")
    def _follow_up_ids_fit(self) -> Self:
        for follow_up in self.then:
            derived = len(self.job_id) + 1 + len(follow_up.step)
            if derived > JOB_ID_MAX_LENGTH:
                raise ValueError(
                    f"job_id is too long for follow-up {follow_up.step!r}: its id"
                    f" '<job_id>/<step>' would have {derived} characters, over"
                    f" {JOB_ID_MAX_LENGTH}"
                )
        return self


class EventError(EventModel):
    """Why a job failed."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_.]*$", description="Stable machine-readable code.")
    message: str
    retriable: bool
    http_status: int | None = Field(default=None, ge=100, le=599)


ErrorInfo = EventError
"""Alias of EventError."""


class EventData(EventModel):
    """Base of every event's ``data``."""

    def placeholders(self) -> dict[str, str]:
        """The values a follow-up may use as ``{placeholder}``: the scalar fields, as text."""
        values: dict[str, str] = {}
        for name, value in self:
            if isinstance(value, bool):
                values[name] = "true" if value else "false"
            elif isinstance(value, str | int | float):
                values[name] = str(value)
        return values


class EventBase(EventModel):
    """Fields every event carries; each event type narrows ``type`` and ``data``."""

    domain: ClassVar[Domain]
    terminal: ClassVar[bool] = False

    event_id: UUID = Field(description="uuid5 of job_id, type and an attempt-free discriminator.")
    type: str
    job_id: JobId
    occurred_at: AwareDatetime
    data: EventData
    metadata: dict[str, str] = Field(default_factory=dict)
    error: EventError | None = None

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


def event_id_for(job_id: str, type: str, discriminator: str = "") -> UUID:
    """The deterministic event id: the same job, type and discriminator give the same id."""
    return uuid5(EVENT_ID_NAMESPACE, f"{job_id}\n{type}\n{discriminator}")
