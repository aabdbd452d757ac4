"""What a domain's logic returns to the runtime, and what it raises when a job cannot succeed.

Domain logic is plain async functions over the API client; it never touches Kafka. It ends
a job by returning one of these, and the runtime turns that into events and records.
"""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel

from bria_fleet.api import BriaApi, OperationState, OperationStatus
from bria_fleet.errors import FailureError
from bria_fleet.runtime.records import WatchRecord
from bria_fleet_contracts import Domain, parse_request

EventData = BaseModel | Mapping[str, Any]


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


@dataclass(frozen=True)
class JobContext:
    """What domain logic may use while it runs one job."""

    api: BriaApi
    job_id: str
    report: ProgressReporter


class WatchKind(Protocol):
    """How to follow one kind of long operation (``training``, ``captions``, ``generation``)."""

    async def poll(self, api: BriaApi, watch: WatchRecord) -> Completed | StillRunning:
        """Ask the API once; raise :class:`JobError` when the operation failed."""
        ...


class DomainLogic(Protocol):
    """A domain's logic, independent of Kafka."""

    def parse(self, raw: bytes) -> Any:
        """Parse and validate a request, raising ``InvalidRequest`` with a readable reason."""
        ...

    def failure_data(self, request: Any) -> Mapping[str, Any]:
        """The ``data`` of the domain's failure event for ``request``."""
        ...

    async def run(self, request: Any, context: JobContext) -> Completed | Watching:
        """Do the job's work; raise an API error or :class:`JobError` when it cannot."""
        ...

    @property
    def watch_kinds(self) -> Mapping[str, WatchKind]:
        """The kinds of long operation this domain starts, by name."""
        ...


class LogicBase:
    """What every domain's logic shares: parsing by its contract, and its watch kinds.

    A subclass sets ``domain`` and passes the kinds of long operation it starts.
    """

    domain: ClassVar[Domain]

    def __init__(self, watch_kinds: Mapping[str, WatchKind] | None = None) -> None:
        self._watch_kinds: dict[str, WatchKind] = dict(watch_kinds or {})

    @property
    def watch_kinds(self) -> Mapping[str, WatchKind]:
        """The kinds of long operation this domain starts, by name."""
        return self._watch_kinds

    def parse(self, raw: bytes) -> Any:
        """Parse and validate a request of this domain (``InvalidRequest`` says why not)."""
        return parse_request(self.domain, raw)
