"""The topic catalogue: every topic, its key, its message types and an example, in Markdown.

Generated into ``contracts/TOPICS.md`` next to ``asyncapi.json`` (the same facts, for tools).
"""

import inspect
from typing import Any

from bria_fleet_contracts import headers
from bria_fleet_contracts.events import EVENT_MODEL_BY_TYPE, EVENT_TYPES_BY_DOMAIN, is_terminal
from bria_fleet_contracts.registry import REQUEST_MODELS
from bria_fleet_contracts.topics import DOMAINS, Domain, consumer_group, topics_for


def request_example_path(domain: str, op: str) -> str:
    """Where the example request of ``op`` lives, relative to ``contracts/``."""
    return f"examples/{domain}/{op}.json"


def event_example_path(event_type: str) -> str:
    """Where the example event of ``event_type`` lives, relative to ``contracts/``."""
    return f"examples/events/{event_type}.json"


def _summary(model: type[Any]) -> str:
    line = (inspect.getdoc(model) or "").split("\n")[0]
    return line.replace("``", "`").replace("|", "\\|")


def _topics_table(domain: Domain) -> list[str]:
    names = topics_for(domain)
    worker = f"the {domain} worker (group `{consumer_group(domain)}`)"
    rows = [
        (names.requests, "`job_id`", "upstream systems", worker, "delete", "jobs to do"),
        (names.events, "`job_id`", f"the {domain} worker", "downstream systems", "delete",
         "what happened to each job; exactly one terminal event per job"),
        (names.retry, "as the request", f"the {domain} worker", worker, "delete",
         f"requests to try again, with `{headers.ATTEMPT}` and `{headers.DUE_AT}` headers"),
        (names.dlq, "as the request", f"the {domain} worker", "operators", "delete",
         f"requests past their last attempt and messages that do not parse, as received,"
         f" with `{headers.ERROR_CODE}`, `{headers.ERROR}` and `{headers.SOURCE_TOPIC}`"
         f"/`{headers.SOURCE_PARTITION}`/`{headers.SOURCE_OFFSET}` headers"),
        (names.operations, "`<kind>:<target id>:<job_id>` or `job:<job_id>`",
         f"the {domain} worker", f"the {domain} worker", "compact",
         "internal: long operations being watched and finished jobs"),
    ]  # fmt: skip
    lines = [
        "| Topic | Key | Written by | Read by | Cleanup | Holds |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| `{row[0]}` | " + " | ".join(row[1:]) + " |" for row in rows]
    return lines


def _requests_table(domain: Domain) -> list[str]:
    lines = ["| `op` | Request | Example |", "|---|---|---|"]
    for model in REQUEST_MODELS[domain]:
        op = model.model_fields["op"].default
        path = request_example_path(domain, op)
        lines.append(f"| `{op}` | {_summary(model)} | [{op}.json]({path}) |")
    return lines


def _events_table(domain: Domain) -> list[str]:
    lines = ["| `type` | Terminal | Event | Example |", "|---|---|---|---|"]
    for event_type in EVENT_TYPES_BY_DOMAIN[domain]:
        model = EVENT_MODEL_BY_TYPE[event_type]
        terminal = "yes" if is_terminal(event_type) else "no"
        path = event_example_path(event_type)
        lines.append(
            f"| `{event_type}` | {terminal} | {_summary(model)} | [{event_type}.json]({path}) |"
        )
    return lines


def build_catalogue() -> str:
    """The whole catalogue as Markdown."""
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
        names = topics_for(domain)
        lines += ["", f"## {domain}", "", *_topics_table(domain)]
        lines += ["", f"Requests on `{names.requests}`:", "", *_requests_table(domain)]
        lines += ["", f"Events on `{names.events}`:", "", *_events_table(domain)]
    return "\n".join(lines) + "\n"
