"""Error bodies in the shape of each API family, chosen by path."""

import uuid
from typing import Literal

from fastapi.responses import JSONResponse

Family = Literal["engine-v1", "engine-v2", "vision-studio", "admin"]


def family(path: str) -> Family:
    """Which API family a path belongs to."""
    if path.startswith("/v2/"):
        return "engine-v2"
    if path.startswith("/api/") or path == "/health":
        return "vision-studio"
    if path.startswith("/_sim"):
        return "admin"
    return "engine-v1"


def error_response(
    path: str,
    status: int,
    message: str,
    headers: dict[str, str] | None = None,
    request_id: str | None = None,
) -> JSONResponse:
    """The error as the family documents it.

    Engine v1 answers ``{"message"}``; engine v2 ``{"error": {code, message, details},
    "request_id"}``; Vision Studio (a FastAPI app) and the admin routes ``{"detail"}``.
    """
    kind = family(path)
    body: dict[str, object]
    if kind == "engine-v1":
        body = {"message": message}
    elif kind == "engine-v2":
        body = {
            "error": {"code": status, "message": message, "details": message},
            "request_id": request_id or uuid.uuid4().hex,
        }
    else:
        body = {"detail": message}
    return JSONResponse(body, status_code=status, headers=headers)
