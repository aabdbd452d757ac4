"""The client's error tree, by concern, each error with a stable ``code`` and ``retriable``.

```
FailureError                      bria_fleet.errors: shared with domain logic's JobError
└── BriaApiError                  code, message, retriable, http_status, method, route
    ├── ApiTransportError         retriable: the request may not have reached the API
    │   ├── ApiTimeout            "timeout"
    │   └── ApiConnectionError    "connection_error"
    ├── ApiStatusError            the API answered with an error status (``retry_after``
    │   │                         seconds when it sent ``Retry-After``)
    │   ├── BadRequest 400, Unauthorized 401, Forbidden 403, NotFound 404, Conflict 409,
    │   │   PreconditionFailed 412, UnsupportedMediaType 415, UnprocessableEntity 422
    │   ├── RateLimited 429       retriable
    │   └── ServerError 5xx       retriable
    ├── OutcomeUnknown            "api_outcome_unknown": a generation may have run, its answer
    │                             was lost; retriable for the upstream, never repeated by us
    ├── InvalidResponse           a success status with a body we cannot read
    └── UnsupportedOperation      the chosen backend does not offer the operation
```

Status errors are named after their HTTP status (like httpx's ``codes``), hence no ``Error``
suffix on every class.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import httpx

from bria_fleet.errors import FailureError

__all__ = [
    "ApiConnectionError",
    "ApiStatusError",
    "ApiTimeout",
    "ApiTransportError",
    "BadRequest",
    "BriaApiError",
    "Conflict",
    "Forbidden",
    "InvalidResponse",
    "NotFound",
    "OutcomeUnknown",
    "PreconditionFailed",
    "RateLimited",
    "ServerError",
    "Unauthorized",
    "UnprocessableEntity",
    "UnsupportedMediaType",
    "UnsupportedOperation",
    "error_for_status",
    "map_exceptions",
]


class BriaApiError(FailureError):
    """A call to the Bria API failed.

    ``code`` is stable (safe to put in events and dashboards), ``retriable`` says whether the
    same call may succeed later, ``http_status`` is the status the API answered, if any.
    """

    default_code: ClassVar[str] = "api_error"
    default_retriable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retriable: bool | None = None,
        http_status: int | None = None,
        method: str | None = None,
        route: str | None = None,
        api_message: str | None = None,
    ) -> None:
        super().__init__(
            message,
            code=code or self.default_code,
            retriable=self.default_retriable if retriable is None else retriable,
            http_status=http_status,
        )
        self.method = method
        self.route = route
        self.api_message = api_message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, http_status={self.http_status!r}, "
            f"retriable={self.retriable!r}, message={self.message!r})"
        )


class ApiTransportError(BriaApiError):
    """The request did not complete: no answer, or no usable connection."""

    default_code = "transport_error"
    default_retriable = True


class ApiTimeout(ApiTransportError):  # noqa: N818
    """The API did not answer within the configured timeout."""

    default_code = "timeout"


class ApiConnectionError(ApiTransportError):
    """The API could not be reached, or the connection broke mid-request."""

    default_code = "connection_error"


class ApiStatusError(BriaApiError):
    """The API answered with an error status; ``http_status`` says which.

    ``retry_after`` is the wait in seconds the API asked for with ``Retry-After``, if any.
    """

    default_code = "http_error"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class BadRequest(ApiStatusError):  # noqa: N818
    """400: the request is invalid (fields, combinations, state)."""

    default_code = "bad_request"


class Unauthorized(ApiStatusError):  # noqa: N818
    """401: the token is missing or wrong; set ``BRIA_API_TOKEN``."""

    default_code = "unauthorized"


class Forbidden(ApiStatusError):  # noqa: N818
    """403: the token may not do this, or an input URL is not accessible."""

    default_code = "forbidden"


class NotFound(ApiStatusError):  # noqa: N818
    """404: the project, dataset, image, model or request id does not exist (or expired)."""

    default_code = "not_found"


class Conflict(ApiStatusError):  # noqa: N818
    """409: the entity is in a state that forbids this (e.g. training already started)."""

    default_code = "conflict"


class PreconditionFailed(ApiStatusError):  # noqa: N818
    """412: a precondition failed (e.g. the dataset is not completed)."""

    default_code = "precondition_failed"


class UnsupportedMediaType(ApiStatusError):  # noqa: N818
    """415: the file type is not accepted (jpeg, jpg, png, webp)."""

    default_code = "unsupported_media_type"


class UnprocessableEntity(ApiStatusError):  # noqa: N818
    """422: the body failed validation, or an input URL is not a valid image."""

    default_code = "unprocessable_entity"


class RateLimited(ApiStatusError):  # noqa: N818
    """429: the request budget is exhausted; ``retry_after`` is the API's wait, if given."""

    default_code = "rate_limited"
    default_retriable = True


class ServerError(ApiStatusError):
    """5xx: the API failed on its side; the same call may succeed later."""

    default_code = "server_error"
    default_retriable = True


class OutcomeUnknown(BriaApiError):  # noqa: N818
    """A generation request may have reached the API, and its answer was lost (a read
    timeout, 500, 502, 504, a connection broken after sending, or a worker that died while
    sending it for an earlier attempt of the job).

    Repeating it could pay for the generation twice, so the fleet does not: the job ends
    with this error. ``retriable`` tells the upstream that a new job may well succeed.
    Set ``BRIA_API_REPEAT_UNCERTAIN_GENERATIONS=true`` to repeat such calls instead.
    """

    default_code = "api_outcome_unknown"
    default_retriable = True


class InvalidResponse(BriaApiError):  # noqa: N818
    """The API answered success but the body is not what the documents describe."""

    default_code = "invalid_response"


class UnsupportedOperation(BriaApiError):  # noqa: N818
    """The chosen backend (``BRIA_BACKEND``) does not offer this operation."""

    default_code = "unsupported_operation"


_STATUS_CLASSES: dict[int, type[ApiStatusError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    415: UnsupportedMediaType,
    422: UnprocessableEntity,
    429: RateLimited,
}


def error_for_status(
    status: int,
    *,
    method: str,
    route: str,
    api_message: str | None,
    retry_after: float | None = None,
) -> ApiStatusError:
    """The most specific error for an error status, with a message naming what failed."""
    reason = _reason(status)
    message = f"{method} {route} answered {status} {reason}".rstrip()
    if api_message:
        message = f"{message}: {api_message}"
    common: dict[str, Any] = {
        "http_status": status,
        "method": method,
        "route": route,
        "api_message": api_message,
    }
    common["retry_after"] = retry_after
    if status >= 500:
        return ServerError(message, **common)
    cls = _STATUS_CLASSES.get(status)
    if cls is not None:
        return cls(message, **common)
    return ApiStatusError(message, code=f"http_{status}", **common)


def _reason(status: int) -> str:
    try:
        return httpx.codes.get_reason_phrase(status)
    except ValueError:
        return ""


@contextmanager
def map_exceptions(method: str, route: str) -> Iterator[None]:
    """Turn httpx's transport errors raised inside the block into ours (``retriable``)."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise ApiTimeout(
            f"{method} {route} timed out ({type(exc).__name__})", method=method, route=route
        ) from exc
    except httpx.UnsupportedProtocol as exc:
        raise ApiConnectionError(
            f"{method} {route} has an unusable URL ({exc}); check BRIA_API_BASE_URL",
            retriable=False,
            method=method,
            route=route,
        ) from exc
    except httpx.TransportError as exc:
        raise ApiConnectionError(
            f"{method} {route} could not reach the API ({type(exc).__name__}: {exc})",
            method=method,
            route=route,
        ) from exc
    except httpx.DecodingError as exc:
        raise InvalidResponse(
            f"{method} {route} answered a body that cannot be decoded: {exc}",
            method=method,
            route=route,
        ) from exc
