"""The AsyncAPI 3.0 document of the whole fleet: every topic as a channel.

Topics: docs/architecture.md §1.
"""

import inspect
from typing import Any

from pydantic.json_schema import models_json_schema

from bria_fleet_contracts import headers
from bria_fleet_contracts._base import JsonSchema
from bria_fleet_contracts.cloudevents import CONTENT_TYPE, SPEC_VERSION, TYPE_PREFIX
from bria_fleet_contracts.envelope import EventBase, RequestBase
from bria_fleet_contracts.events import EVENT_MODEL_BY_TYPE, EVENT_TYPES_BY_DOMAIN
from bria_fleet_contracts.examples import example_payload, example_requests
from bria_fleet_contracts.registry import REQUEST_MODELS
from bria_fleet_contracts.topics import DOMAINS, Domain, consumer_group, topics_for
from bria_fleet_contracts.version import __version__

KAFKA_BINDING = "0.5.0"
REF = "#/components/schemas/{model}"

_STRING = {"type": "string"}

REQUEST_KEY = "job_id, or the entity id the upstream wants ordered"
EVENT_KEY = "job_id"
REQUEUED_KEY = "as the request"
OPERATIONS_KEY = "<kind>:<target id>:<job_id> for a watch, job:<job_id> for a finished job"


def _summary(model: type[Any]) -> str:
    return (inspect.getdoc(model) or "").split("\n")[0]


def _key(description: str) -> dict[str, Any]:
    return {
        "kafka": {"key": {**_STRING, "description": description}, "bindingVersion": KAFKA_BINDING}
    }


def _topic(topic: str, cleanup: str) -> dict[str, Any]:
    return {
        "kafka": {
            "topic": topic,
            "topicConfiguration": {"cleanup.policy": [cleanup]},
            "bindingVersion": KAFKA_BINDING,
        }
    }


def _header_schemas() -> dict[str, JsonSchema]:
    cloudevents = {
        "ce_specversion": {"const": SPEC_VERSION},
        "ce_id": {**_STRING, "format": "uuid", "description": "The event_id."},
        "ce_source": {**_STRING, "description": "/bria-fleet/<domain>"},
        "ce_type": {**_STRING, "pattern": "^" + TYPE_PREFIX.replace(".", r"\.")},
        "ce_time": {**_STRING, "format": "date-time"},
        "ce_subject": {**_STRING, "description": "The job_id."},
        "content-type": {"const": CONTENT_TYPE},
    }
    attempt = {**_STRING, "pattern": "^[0-9]+$", "description": "How many attempts were made."}
    return {
        "CloudEventHeaders": {
            "type": "object",
            "properties": cloudevents,
            "required": list(cloudevents),
        },
        "RetryHeaders": {
            "type": "object",
            "properties": {
                headers.ATTEMPT: attempt,
                headers.DUE_AT: {**_STRING, "format": "date-time"},
            },
            "required": [headers.ATTEMPT, headers.DUE_AT],
        },
        "DeadLetterHeaders": {
            "type": "object",
            "properties": {
                headers.ATTEMPT: attempt,
                headers.ERROR_CODE: _STRING,
                headers.ERROR: _STRING,
                headers.SOURCE_TOPIC: _STRING,
                headers.SOURCE_PARTITION: {**_STRING, "pattern": "^[0-9]+$"},
                headers.SOURCE_OFFSET: {**_STRING, "pattern": "^[0-9]+$"},
            },
            "required": [headers.ERROR_CODE, headers.ERROR],
        },
    }


def _schemas() -> tuple[dict[tuple[type[Any], str], JsonSchema], dict[str, JsonSchema]]:
    inputs: list[tuple[type[Any], Any]] = [
        (model, "validation") for models in REQUEST_MODELS.values() for model in models
    ]
    inputs += [(model, "serialization") for model in EVENT_MODEL_BY_TYPE.values()]
    refs, top = models_json_schema(inputs, ref_template=REF)
    return {(model, mode): ref for (model, mode), ref in refs.items()}, {
        **top.get("$defs", {}),
        **_header_schemas(),
    }


def _request_message(model: type[RequestBase], ref: JsonSchema, example: Any) -> JsonSchema:
    message: JsonSchema = {
        "name": model.model_fields["op"].default,
        "title": model.__name__,
        "summary": _summary(model),
        "contentType": CONTENT_TYPE,
        "payload": ref,
        "bindings": _key(REQUEST_KEY),
    }
    if example is not None:
        message["examples"] = [{"name": "example", "payload": example}]
    return message


def _event_message(model: type[EventBase], ref: JsonSchema) -> JsonSchema:
    return {
        "name": model.model_fields["type"].default,
        "title": model.__name__,
        "summary": _summary(model),
        "x-terminal": model.terminal,
        "contentType": CONTENT_TYPE,
        "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
        "payload": ref,
        "bindings": _key(EVENT_KEY),
    }


def _channels(domain: Domain, payloads: dict[str, JsonSchema]) -> dict[str, JsonSchema]:
    names = topics_for(domain)
    group = consumer_group(domain)
    ops = [model.model_fields["op"].default for model in REQUEST_MODELS[domain]]
    request_refs = {op: {"$ref": f"#/components/messages/{domain}.{op}"} for op in ops}
    requeued = {
        op: {
            "name": op,
            "contentType": CONTENT_TYPE,
            "payload": payloads[op],
        }
        for op in ops
    }
    return {
        f"{domain}Requests": {
            "address": names.requests,
            "title": f"{domain} requests",
            "description": f"Jobs for the {domain} worker.",
            "messages": request_refs,
            "bindings": _topic(names.requests, "delete"),
            "x-key": REQUEST_KEY,
            "x-written-by": "upstream",
            "x-read-by": f"the {domain} worker ({group})",
        },
        f"{domain}Events": {
            "address": names.events,
            "title": f"{domain} events",
            "description": "What happened to each job; every job ends in one terminal event.",
            "messages": {
                t: {"$ref": f"#/components/messages/{t}"} for t in EVENT_TYPES_BY_DOMAIN[domain]
            },
            "bindings": _topic(names.events, "delete"),
            "x-key": EVENT_KEY,
            "x-written-by": f"the {domain} worker",
            "x-read-by": "downstream",
        },
        f"{domain}Operations": {
            "address": names.operations,
            "title": f"{domain} operations",
            "description": "Internal: long operations being watched and finished jobs (a "
            "KTable); a null payload is a tombstone.",
            "messages": {
                "watchRecord": {
                    "name": "watchRecord",
                    "contentType": CONTENT_TYPE,
                    "summary": "The worker's own watch or finished-job record.",
                    "payload": {"type": ["object", "null"]},
                    "bindings": _key(OPERATIONS_KEY),
                }
            },
            "bindings": _topic(names.operations, "compact"),
            "x-key": OPERATIONS_KEY,
            "x-written-by": f"the {domain} worker",
            "x-read-by": f"the {domain} worker's watcher",
        },
        f"{domain}Retry": {
            "address": names.retry,
            "title": f"{domain} retries",
            "description": "Requests to try again after a delay, with the due time and the "
            f"attempt count in the {headers.DUE_AT} and {headers.ATTEMPT} headers.",
            "messages": {
                op: {**message, "headers": {"$ref": "#/components/schemas/RetryHeaders"}}
                for op, message in requeued.items()
            },
            "bindings": _topic(names.retry, "delete"),
            "x-key": REQUEUED_KEY,
            "x-written-by": f"the {domain} worker",
            "x-read-by": f"the {domain} worker, after the delay",
        },
        f"{domain}Dlq": {
            "address": names.dlq,
            "title": f"{domain} dead letters",
            "description": "Requests past their last attempt, and messages that do not parse, "
            f"as received, with the reason in the {headers.ERROR_CODE} and {headers.ERROR} "
            f"headers and where they came from in {headers.SOURCE_TOPIC}, "
            f"{headers.SOURCE_PARTITION} and {headers.SOURCE_OFFSET}.",
            "messages": {
                **{
                    op: {**message, "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"}}
                    for op, message in requeued.items()
                },
                "unparseable": {
                    "name": "unparseable",
                    "summary": "A message that did not parse, as it was received.",
                    "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
                    "payload": {},
                },
            },
            "bindings": _topic(names.dlq, "delete"),
            "x-key": REQUEUED_KEY,
            "x-written-by": f"the {domain} worker",
            "x-read-by": "operators",
        },
    }


def _operations(domain: Domain, channels: dict[str, JsonSchema]) -> dict[str, JsonSchema]:
    group = {
        "kafka": {
            "groupId": {**_STRING, "enum": [consumer_group(domain)]},
            "bindingVersion": KAFKA_BINDING,
        }
    }
    plan = [
        ("Requests", "receive", "The worker consumes the requests upstream sends.", group),
        ("Events", "send", "The worker publishes each job's events.", None),
        ("Operations", "send", "The worker records and tombstones watches.", None),
        ("Operations", "receive", "The watcher rebuilds its schedule from the topic.", group),
        ("Retry", "send", "The worker defers a request that exhausted in-process retries.", None),
        ("Retry", "receive", "The worker takes a deferred request back once it is due.", group),
        ("Dlq", "send", "The worker dead-letters what it cannot process.", None),
    ]
    operations: dict[str, JsonSchema] = {}
    for suffix, action, description, bindings in plan:
        channel = f"{domain}{suffix}"
        operation: JsonSchema = {
            "action": action,
            "channel": {"$ref": f"#/channels/{channel}"},
            "description": description,
            "messages": [
                {"$ref": f"#/channels/{channel}/messages/{key}"}
                for key in channels[channel]["messages"]
            ],
        }
        if bindings:
            operation["bindings"] = bindings
        operations[f"{channel}.{action}"] = operation
    return operations


def build_asyncapi() -> JsonSchema:
    """The AsyncAPI 3.0 document, from the fleet's point of view (it receives requests)."""
    refs, schemas = _schemas()
    examples = {(type(r).domain, r.op): example_payload(r) for r in example_requests()}
    messages: dict[str, JsonSchema] = {}
    payloads: dict[Domain, dict[str, JsonSchema]] = {domain: {} for domain in DOMAINS}
    for domain in DOMAINS:
        for model in REQUEST_MODELS[domain]:
            op = model.model_fields["op"].default
            ref = refs[(model, "validation")]
            payloads[domain][op] = ref
            messages[f"{domain}.{op}"] = _request_message(model, ref, examples.get((domain, op)))
    for event_type, event_model in EVENT_MODEL_BY_TYPE.items():
        messages[event_type] = _event_message(event_model, refs[(event_model, "serialization")])
    channels: dict[str, JsonSchema] = {}
    operations: dict[str, JsonSchema] = {}
    for domain in DOMAINS:
        domain_channels = _channels(domain, payloads[domain])
        channels.update(domain_channels)
        operations.update(_operations(domain, domain_channels))
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "bria-fleet",
            "version": __version__,
            "description": "Kafka jobs for Bria tailored generation: ingest, caption, train, "
            "generate. Generated from bria_fleet_contracts; do not edit.",
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "kafka": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "Set by KAFKA_BOOTSTRAP_SERVERS.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }
