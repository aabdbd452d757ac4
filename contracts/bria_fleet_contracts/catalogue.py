"""The topic catalogue: every topic, its key, its message types and an example, in Markdown.

Generated into ``contracts/TOPICS.md`` from the AsyncAPI document it sits next to, so the two
say the same things: the catalogue is that document's channels and messages, for people.
"""

from typing import Any

from bria_fleet_contracts.events import EVENT_TYPES_BY_DOMAIN
from bria_fleet_contracts.registry import REQUEST_MODELS
from bria_fleet_contracts.topics import DOMAINS, Domain

_CHANNELS = ("Requests", "Events", "Retry", "Dlq", "Operations")


def request_example_path(domain: str, op: str) -> str:
    """Where the example request of ``op`` lives, relative to ``contracts/``."""
    return f"examples/{domain}/{op}.json"


def event_example_path(event_type: str) -> str:
    """Where the example event of ``event_type`` lives, relative to ``contracts/``."""
    return f"examples/events/{event_type}.json"


def _cell(text: str) -> str:
    return text.replace("``", "`").replace("|", "\\|").replace("<", "&lt;")


def _topics_table(domain: Domain, channels: dict[str, Any]) -> list[str]:
    lines = [
        "| Topic | Key | Written by | Read by | Cleanup | Holds |",
        "|---|---|---|---|---|---|",
    ]
    for suffix in _CHANNELS:
        channel = channels[f"{domain}{suffix}"]
        cleanup = channel["bindings"]["kafka"]["topicConfiguration"]["cleanup.policy"][0]
        cells = [channel["x-key"], channel["x-written-by"], channel["x-read-by"], cleanup]
        cells.append(channel["description"])
        lines.append(f"| `{channel['address']}` | " + " | ".join(map(_cell, cells)) + " |")
    return lines


def _requests_table(domain: Domain, messages: dict[str, Any]) -> list[str]:
    lines = ["| `op` | Request | Example |", "|---|---|---|"]
    for model in REQUEST_MODELS[domain]:
        op = model.model_fields["op"].default
        summary = _cell(messages[f"{domain}.{op}"]["summary"])
        lines.append(f"| `{op}` | {summary} | [{op}.json]({request_example_path(domain, op)}) |")
    return lines


def _events_table(domain: Domain, messages: dict[str, Any]) -> list[str]:
    lines = ["| `type` | Terminal | Event | Example |", "|---|---|---|---|"]
    for event_type in EVENT_TYPES_BY_DOMAIN[domain]:
        message = messages[event_type]
        terminal = "yes" if message["x-terminal"] else "no"
        path = event_example_path(event_type)
        lines.append(
            f"| `{event_type}` | {terminal} | {_cell(message['summary'])}"
            f" | [{event_type}.json]({path}) |"
        )
    return lines


def build_catalogue(asyncapi: dict[str, Any]) -> str:
    """The whole catalogue as Markdown, from the fleet's AsyncAPI document."""
    channels, messages = asyncapi["channels"], asyncapi["components"]["messages"]
    lines = [
        "# Topic catalogue",
        "",
        "Generated from `bria_fleet_contracts` by `python -m bria_fleet_contracts.generate`;"
        " do not edit by hand. The same contract for tools: [asyncapi.json](asyncapi.json)"
        " (AsyncAPI 3.0) and one JSON Schema per message under [schemas/](schemas/).",
        "",
        "Every value is UTF-8 JSON and every key a UTF-8 string. A request's `job_id` is"
        " yours to choose and names the job in every event about it; requests with one key"
        " are handled in the order they were sent. Events also carry CloudEvents 1.0"
        " binary-mode headers (`ce_id` is the `event_id`, `ce_type` the `type`); a"
        " redelivered job re-emits its events with the same `event_id`, so deduplicate on it."
        " A request may carry `then`: follow-up requests for other domains, published only"
        " after this job's `*.completed` event, with job ids `<job_id>/<step>`"
        " ([pipeline.json](examples/pipeline.json)).",
    ]
    for domain in DOMAINS:
        requests, events = (channels[f"{domain}{name}"]["address"] for name in _CHANNELS[:2])
        lines += ["", f"## {domain}", "", *_topics_table(domain, channels)]
        lines += ["", f"Requests on `{requests}`:", "", *_requests_table(domain, messages)]
        lines += ["", f"Events on `{events}`:", "", *_events_table(domain, messages)]
    return "\n".join(lines) + "\n"
