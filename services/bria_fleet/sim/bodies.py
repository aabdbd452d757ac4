"""Reading engine request bodies: JSON objects, pydantic models, integer path ids."""

import json
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from bria_fleet.sim.errors import BadRequestError, NotFoundError

M = TypeVar("M", bound=BaseModel)


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object (an empty body is ``{}``); 400 otherwise."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise BadRequestError("Bad request - the body is not valid JSON") from error
    if not isinstance(data, dict):
        raise BadRequestError("Bad request - the body must be a JSON object")
    return data


def parse(model: type[M], data: dict[str, Any]) -> M:
    """``data`` validated as ``model``; a violation is a 400 naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise BadRequestError(f"Bad request - validation error: {where}: {first['msg']}") from error


async def body_as(request: Request, model: type[M]) -> M:
    """The JSON body validated as ``model``."""
    return parse(model, await json_object(request))


def path_id(value: str, what: str) -> int:
    """An integer id from the path; anything else names nothing (404)."""
    try:
        return int(value)
    except ValueError as error:
        raise NotFoundError(f"{what} not found") from error
