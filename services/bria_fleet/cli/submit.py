"""``bria-fleet submit``: publish a request, optionally waiting for its terminal event."""

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from bria_fleet.cli.root import app
from bria_fleet.errors import BriaFleetError
from bria_fleet.settings import KafkaSettings
from bria_fleet.submitting import EventStream, publish, validated
from bria_fleet_contracts import Domain, InvalidRequest


def _read(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    path = Path(source)
    if not path.is_file():
        raise BriaFleetError(f"{source} is not a file; give a JSON request file, or - for stdin.")
    return path.read_bytes()


async def _submit(
    settings: KafkaSettings, domain: Domain, request: dict[str, Any], wait: bool, within: float
) -> dict[str, Any] | None:
    if not wait:
        await publish(settings, domain, request)
        return None
    async with EventStream(settings, [domain]) as events:
        await publish(settings, domain, request)
        return await events.terminal_event(str(request["job_id"]), within)


@app.command()
def submit(
    domain: Annotated[Domain, typer.Argument(help="The domain whose requests topic to use.")],
    source: Annotated[str, typer.Argument(help="A JSON request file, or - for standard input.")],
    wait: Annotated[bool, typer.Option(help="Wait for the job's terminal event.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait.")] = 300.0,
    bootstrap: Annotated[
        str | None, typer.Option(help="Kafka bootstrap servers [env KAFKA_BOOTSTRAP_SERVERS].")
    ] = None,
) -> None:
    """Validate a request against the contract and publish it to bria.<domain>.requests.

    With --wait, print the job's terminal event and exit 1 if the job failed.
    """
    settings = KafkaSettings()
    if bootstrap:
        settings = settings.model_copy(update={"bootstrap_servers": bootstrap})
    try:
        request = validated(domain, _read(source))
    except InvalidRequest as invalid:
        raise BriaFleetError(invalid.reason) from None
    event = asyncio.run(_submit(settings, domain, request, wait, timeout))
    console = Console()
    if event is None:
        console.print(f"published job [bold]{request['job_id']}[/] to bria.{domain}.requests")
        return
    console.print_json(json.dumps(event))
    if not event["type"].endswith(".completed"):
        raise typer.Exit(1)
