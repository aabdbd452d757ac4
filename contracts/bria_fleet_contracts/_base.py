"""Model bases and constrained field types shared by every contract module."""

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

JsonSchema = dict[str, Any]


def require_in_schema(*names: str) -> Callable[[JsonSchema], None]:
    """A ``json_schema_extra`` hook marking defaulted discriminator fields as required."""

    def hook(schema: JsonSchema) -> None:
        required: list[str] = schema.setdefault("required", [])
        required.extend([name for name in names if name not in required])

    return hook


class RequestModel(BaseModel):
    """Base of request-side models: unknown fields are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EventModel(BaseModel):
    """Base of event-side models: fields added by newer producers are ignored."""

    model_config = ConfigDict(
        extra="ignore", frozen=True, json_schema_serialization_defaults_required=True
    )


def exactly_one(model: BaseModel, *names: str) -> None:
    """Raise unless exactly one of the fields ``names`` is set (not None)."""
    given = [name for name in names if getattr(model, name) is not None]
    if len(given) != 1:
        got = "neither" if not given else " and ".join(given)
        raise ValueError(f"give exactly one of {' or '.join(names)} (got {got})")


def _json_object(value: str) -> str:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"must be a JSON object encoded as a string: {exc.msg}") from None
    if not isinstance(parsed, dict):
        raise ValueError("must be a JSON object encoded as a string")
    return value


JOB_ID_MAX_LENGTH = 512
JOB_ID_PATTERN = r"^[^\s\u0000-\u001f\u007f-\u009f]+$"
"""A job id has no whitespace and no control characters (so it cannot forge a log line)."""


def _no_surrogates(value: str) -> str:
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (it holds a lone surrogate)") from None
    return value


JobId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=JOB_ID_MAX_LENGTH,
        pattern=JOB_ID_PATTERN,
        description=(
            "The upstream's idempotency key: 1 to 512 characters, no whitespace, no control"
            " characters. Follow-ups derive theirs as '<job_id>/<step>'."
        ),
    ),
    AfterValidator(_no_surrogates),
]

EntityId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=r"^\S+$",
        description=(
            "Id of a project, dataset, image or model: the engine's integer ids as decimal "
            "strings, Vision Studio's as given."
        ),
    ),
]

HttpUrl = Annotated[
    str,
    Field(
        min_length=8,
        max_length=8192,
        pattern=r"^https?://\S+$",
        json_schema_extra={"format": "uri"},
        description="A publicly reachable http(s) URL.",
    ),
]

Base64Data = Annotated[
    str,
    Field(
        min_length=4,
        pattern=r"^(data:[\w.+-]+/[\w.+-]+;base64,)?[A-Za-z0-9+/\r\n]+=*$",
        description="Base64-encoded file content, optionally as a data URI.",
    ),
]

JsonObjectString = Annotated[
    str,
    Field(min_length=2, description="A JSON object encoded as a string."),
    AfterValidator(_json_object),
]

AspectRatio = Literal["1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9"]


class ImageRef(RequestModel):
    """An input image, by URL or inline as base64 (exactly one)."""

    url: HttpUrl | None = None
    base64: Base64Data | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        exactly_one(self, "url", "base64")
        return self

    @property
    def kind(self) -> Literal["url", "base64"]:
        """Which source the image is given by."""
        return "url" if self.url is not None else "base64"
