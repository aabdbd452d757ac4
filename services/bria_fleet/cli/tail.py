"""``bria-fleet tail``: follow a domain's events as downstream systems see them."""

import asyncio
import contextlib
import json
from typing import Annotated, Any, cast

import typer
from rich.console import Console

from bria_fleet.cli.root import app
from bria_fleet.settings import KafkaSettings
from bria_fleet.submitting import EventStream
from bria_fleet_contracts import DOMAINS, Domain

_STYLE = {"completed": "green", "failed": "red", "stopped": "yellow"}


def describe(event: dict[str, Any]) -> str:
    """One line for people: when, what, which job, and the gist of its data or error."""
    kind = event["type"].rsplit(".", 1)[-1]
    style = _STYLE.get(kind, "cyan")
    data = event.get("data") or {}
    if event.get("error"):
        gist = f"{event['error']['code']}: {event['error']['message']}"
    elif data.get("assets"):
        gist = " ".join(asset["url"] for asset in data["assets"])
    else:
        gist = ", ".join(f"{k}={v}" for k, v in data.items() if isinstance(v, str | int | float))
    time = event["occurred_at"][11:19]
    return f"{time} [{style}]{event['type']:<28}[/] {event['job_id']}  {gist}"


async def _tail(settings: KafkaSettings, domains: list[Domain], raw: bool, beginning: bool) -> None:
    console = Console(highlight=False)
    async with EventStream(settings, domains, from_beginning=beginning) as events:
        async for event in events:
            if raw:
                print(json.dumps(event), flush=True)
            else:
                console.print(describe(event), soft_wrap=True)


@app.command()
def tail(
    domain: Annotated[
        str, typer.Argument(help="ingest, caption, training, generation, or all.")
    ] = "all",
    raw: Annotated[bool, typer.Option("--json", help="One JSON event per line.")] = False,
    from_beginning: Annotated[
        bool, typer.Option(help="Start at the beginning of the topics, not at their end.")
    ] = False,
    bootstrap: Annotated[
        str | None, typer.Option(help="Kafka bootstrap servers [env KAFKA_BOOTSTRAP_SERVERS].")
    ] = None,
) -> None:
    """Print events of bria.<domain>.events as they are published, until Ctrl-C."""
    if domain != "all" and domain not in DOMAINS:
        raise typer.BadParameter(
            f"{domain!r} is not a domain; use one of {', '.join(DOMAINS)}, all"
        )
    domains: list[Domain] = list(DOMAINS) if domain == "all" else [cast(Domain, domain)]
    settings = KafkaSettings()
    if bootstrap:
        settings = settings.model_copy(update={"bootstrap_servers": bootstrap})
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_tail(settings, domains, raw, from_beginning))
