"""Standalone JSON Schemas: one per request op, per domain request union, per event type."""

from typing import Any

from pydantic import TypeAdapter

from bria_fleet_contracts._base import JsonSchema
from bria_fleet_contracts.events import EVENT_MODEL_BY_TYPE
from bria_fleet_contracts.registry import REQUEST_MODELS, REQUEST_UNIONS
from bria_fleet_contracts.topics import DOMAINS

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _document(schema: JsonSchema, title: str) -> JsonSchema:
    schema.setdefault("title", title)
    return {"$schema": DIALECT, **schema}


def request_schema_name(domain: str, op: str | None = None) -> str:
    """``request.<domain>.<op>``, or ``request.<domain>`` for the domain's union."""
    return f"request.{domain}.{op}" if op else f"request.{domain}"


def event_schema_name(event_type: str) -> str:
    """``event.<type>``, e.g. ``event.training.completed``."""
    return f"event.{event_type}"


def build_schemas() -> dict[str, JsonSchema]:
    """Every schema by name; requests in validation mode, events as serialized."""
    schemas: dict[str, JsonSchema] = {}
    for domain in DOMAINS:
        union: TypeAdapter[Any] = TypeAdapter(REQUEST_UNIONS[domain])
        schemas[request_schema_name(domain)] = _document(
            union.json_schema(mode="validation"), f"{domain.capitalize()}Request"
        )
        for model in REQUEST_MODELS[domain]:
            op = model.model_fields["op"].default
            schemas[request_schema_name(domain, op)] = _document(
                model.model_json_schema(mode="validation"), model.__name__
            )
    for event_type, event_model in EVENT_MODEL_BY_TYPE.items():
        schemas[event_schema_name(event_type)] = _document(
            event_model.model_json_schema(mode="serialization"), event_model.__name__
        )
    return schemas
