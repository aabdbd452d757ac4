"""What the fleet keeps in ``bria.<domain>.operations`` (docs/architecture.md §3, §4).

Five kinds of record share the compacted topic:

- a *watch* (key ``<kind>:<target id>:<job_id>``): a long operation one job is following
  (two jobs may follow the same model or dataset, each to its own end);
- a *finished job* (key ``job:<job_id>``): the terminal event(s) a job ended in, so that a
  redelivered request re-emits them instead of calling the API again;
- a *calling* marker (the same key, until the job finishes): the job is sending a paid
  generation, so that if its worker dies the next owner knows the call may have happened;
- a *fact* (key ``fact:<name>``): something a job's end depends on that neither the API nor
  the request says (who asked for a stop, what earlier attempts uploaded), so that every
  replica reports the same event;
- a *nudge* (key ``nudge:<watch key>``, in the watch's own partition): a webhook said the
  operation may have finished, so its owner polls it now (then deletes the nudge).
"""

import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class OutboundMessage(BaseModel):
    """A message to publish: where, under which key, with which JSON value and headers."""

    model_config = ConfigDict(frozen=True)

    topic: str
    key: str
    value: dict[str, Any]
    headers: dict[str, str] = Field(default_factory=dict)


class WatchRecord(BaseModel):
    """A long operation being followed until it reaches a terminal status."""

    record: Literal["watch"] = "watch"
    kind: str
    target_id: str
    job_id: str
    request: dict[str, Any]
    metadata: dict[str, str] = Field(default_factory=dict)
    status: str | None = None
    polls: int = 0
    started_at: datetime = Field(default_factory=utcnow)
    deadline_at: datetime
    #: W3C trace context of the job that started the watch (empty when tracing is off).
    trace_context: dict[str, str] = Field(default_factory=dict)

    @property
    def key(self) -> str:
        """The record's key in the operations topic."""
        return watch_key(self.kind, self.target_id, self.job_id)

    def request_bytes(self) -> bytes:
        """The job's request as JSON, for the domain logic to parse."""
        return json.dumps(self.request).encode()


class FinishedRecord(BaseModel):
    """How a job ended: the messages it published when it did, to publish again on redelivery."""

    record: Literal["finished"] = "finished"
    job_id: str
    messages: list[OutboundMessage]
    finished_at: datetime = Field(default_factory=utcnow)

    @property
    def key(self) -> str:
        """The record's key in the operations topic."""
        return finished_key(self.job_id)


class CallingRecord(BaseModel):
    """A job about to send a paid generation; its finished record replaces it.

    Serialised with ``record`` first, as every record here: the table tells it from a
    finished record by :data:`CALLING_PREFIX` without parsing either.
    """

    record: Literal["calling"] = "calling"
    job_id: str
    since: datetime = Field(default_factory=utcnow)

    @property
    def key(self) -> str:
        """The record's key in the operations topic (the job's finished record's)."""
        return finished_key(self.job_id)


CALLING_PREFIX = b'{"record":"calling"'


class FactRecord(BaseModel):
    """A small durable fact domain logic recorded (see ``runtime.outcomes.Facts``)."""

    record: Literal["fact"] = "fact"
    name: str
    value: dict[str, JsonValue]
    written_at: datetime = Field(default_factory=utcnow)

    @property
    def key(self) -> str:
        """The record's key in the operations topic."""
        return fact_key(self.name)


OperationRecord = WatchRecord | FinishedRecord | CallingRecord | FactRecord
OPERATION_RECORD: TypeAdapter[OperationRecord] = TypeAdapter(
    Annotated[OperationRecord, Field(discriminator="record")]
)


def watch_key(kind: str, target_id: str, job_id: str) -> str:
    """The operations-topic key of one job's watch of one operation."""
    return f"{kind}:{target_id}:{job_id}"


FINISHED_KEY_PREFIX = "job:"


def finished_key(job_id: str) -> str:
    """The operations-topic key of a finished job."""
    return f"{FINISHED_KEY_PREFIX}{job_id}"


FACT_KEY_PREFIX = "fact:"


def fact_key(name: str) -> str:
    """The operations-topic key of a fact."""
    return f"{FACT_KEY_PREFIX}{name}"


NUDGE_KEY_PREFIX = "nudge:"
NUDGE_VALUE = b'{"record":"nudge"}'


def nudge_key(watch_key: str) -> str:
    """The operations-topic key of a nudge to poll ``watch_key`` now."""
    return f"{NUDGE_KEY_PREFIX}{watch_key}"
