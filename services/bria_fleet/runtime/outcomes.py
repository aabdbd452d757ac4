"""What a domain's logic returns to the runtime, and what it raises when a job cannot succeed.

Domain logic is plain async functions over the API client; it never touches Kafka. It ends
a job by returning one of these, and the runtime turns that into events and records.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

from pydantic import BaseModel, JsonValue

from bria_fleet.api import BriaApi, OperationState, OperationStatus
from bria_fleet.errors import FailureError
from bria_fleet_contracts import Domain, RequestBase, parse_request

EventData = BaseModel | Mapping[str, JsonValue]
"""An event's ``data``: its contract model, or the same as JSON."""

RequestT = TypeVar("RequestT", bound=RequestBase)
"""A domain's request type (its union of request models)."""


@dataclass(frozen=True)
class EventSpec:
    """An event to publish for the current job: its type, data and attempt-free discriminator."""

    type: str
    data: EventData
    discriminator: str = ""


@dataclass(frozen=True)
class Completed:
    """The job reached its end: publish ``event`` (terminal) and run the ``then`` follow-ups.

    ``values`` fill the follow-ups' placeholders, e.g. ``{"model_id": "301"}``.
    """

    event: EventSpec
    values: Mapping[str, str] = field(default_factory=dict)
    completed_at: datetime | None = None


@dataclass(frozen=True)
class Watching:
    """The job started a long operation that the watcher will follow to its end."""

    kind: str
    target_id: str
    status: str | None = None
    events: tuple[EventSpec, ...] = ()


@dataclass(frozen=True)
class StillRunning:
    """A poll found the operation not finished; ``events`` are published if ``status`` changed."""

    status: str | None
    events: tuple[EventSpec, ...] = ()


class JobError(FailureError):
    """The job cannot succeed, for a reason that is not an API error (a failed status, ...)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        retriable: bool = False,
        http_status: int | None = None,
        event_type: str | None = None,
        completed_at: datetime | None = None,
    ) -> None:
        super().__init__(
            message,
            code=code,
            retriable=retriable,
            http_status=http_status,
            event_type=event_type,
            completed_at=completed_at,
        )


def operation_failure(status: OperationStatus[Any], code: str, fallback: str) -> JobError | None:
    """The job's error when the API reports its operation failed or stopped, else ``None``.

    The message is the API's own when it gives one, ``fallback`` otherwise.
    """
    if status.state not in (OperationState.FAILED, OperationState.STOPPED):
        return None
    detail = status.error.message if status.error and status.error.message else None
    return JobError(code, detail or fallback, completed_at=status.updated_at)


ProgressReporter = Callable[[EventSpec], Awaitable[None]]


class Facts(Protocol):
    """Small durable facts a job's end depends on, kept in the operations topic.

    What one process learns and another may need to report a job's end (who asked for a
    stop, what earlier attempts uploaded) goes here, never in process memory: every replica
    reads the same facts.
    """

    async def get(self, name: str) -> Mapping[str, JsonValue] | None:
        """The fact ``name``, as of every write acknowledged before this call."""
        ...

    async def put(self, name: str, value: Mapping[str, JsonValue]) -> None:
        """Write the fact ``name``; returns once Kafka has acknowledged it."""
        ...

    async def delete(self, name: str) -> None:
        """Forget the fact ``name``; returns once Kafka has acknowledged it."""
        ...


@dataclass(frozen=True)
class JobContext:
    """What domain logic may use while it runs one job."""

    api: BriaApi
    job_id: str
    report: ProgressReporter
    facts: Facts
    webhook_url: str | None = None
    """Where asynchronous API requests should ask for webhooks (``None``: poll only)."""


@dataclass(frozen=True)
class PollInput(Generic[RequestT]):
    """What a watch kind gets for one poll: the job's parsed request, never the Kafka record.

    ``status`` is the last status the watch recorded, ``started_at`` when the watch began.
    """

    api: BriaApi
    request: RequestT
    target_id: str
    started_at: datetime
    status: str | None
    facts: Facts

    @property
    def job_id(self) -> str:
        """The id of the job that started the operation."""
        return self.request.job_id


class WatchKind(Protocol[RequestT]):
    """How to follow one kind of long operation (``training``, ``captions``, ``generation``)."""

    async def poll(self, poll: PollInput[RequestT]) -> Completed | StillRunning:
        """Ask the API once; raise a ``FailureError`` (e.g. :class:`JobError`) when it failed."""
        ...


class DomainLogic(Protocol[RequestT]):
    """A domain's logic, independent of Kafka, over its own request type ``RequestT``."""

    def parse(self, raw: bytes | None) -> RequestT:
        """Parse and validate a request, raising ``InvalidRequest`` with a readable reason."""
        ...

    def failure_data(self, request: RequestT) -> EventData:
        """The ``data`` of the domain's failure event for ``request``."""
        ...

    def deadline_seconds(self, request: RequestT) -> float | None:
        """How long a watch started for ``request`` may run, if the request says."""
        ...

    async def run(self, request: RequestT, context: JobContext) -> Completed | Watching:
        """Do the job's work; raise a ``FailureError`` (API error, :class:`JobError`) if not."""
        ...

    @property
    def watch_kinds(self) -> Mapping[str, WatchKind[RequestT]]:
        """The kinds of long operation this domain starts, by name."""
        ...


class LogicBase(Generic[RequestT]):
    """What every domain's logic shares: parsing by its contract, and its watch kinds.

    A subclass names its request type (``LogicBase[CaptionRequest]``), sets ``domain`` and
    passes the kinds of long operation it starts.
    """

    domain: ClassVar[Domain]

    def __init__(self, watch_kinds: Mapping[str, WatchKind[RequestT]] | None = None) -> None:
        self._watch_kinds: dict[str, WatchKind[RequestT]] = dict(watch_kinds or {})

    @property
    def watch_kinds(self) -> Mapping[str, WatchKind[RequestT]]:
        """The kinds of long operation this domain starts, by name."""
        return self._watch_kinds

    def parse(self, raw: bytes | None) -> RequestT:
        """Parse and validate a request of this domain (``InvalidRequest`` says why not)."""
        # parse_request is typed per domain literal; ``domain`` is only known to be a Domain.
        return cast(RequestT, parse_request(self.domain, raw))

    def deadline_seconds(self, request: RequestT) -> float | None:
        """No deadline of its own: the poll policy's applies."""
        return None


AnyLogic = DomainLogic[Any]
"""Some domain's logic, request type unknown: only where domains are chosen at run time."""
