"""``bria-fleet demo``: the fleet on this machine, generating with every generation op."""

import asyncio
import time
import uuid
from typing import Any

from rich.console import Console
from rich.table import Table

from bria_fleet.cli.app import app
from bria_fleet.settings import KafkaSettings
from bria_fleet.stack import Stack, StackOptions
from bria_fleet.submitting import EventWaiter, publish
from bria_fleet_contracts import Domain
from bria_fleet_contracts.examples import example_payload, example_requests

DOMAIN: Domain = "generation"


Result = tuple[str, dict[str, Any], float]


async def _run_examples(bootstrap: str, console: Console) -> list[Result]:
    settings = KafkaSettings(bootstrap_servers=bootstrap)
    results: list[Result] = []
    run = uuid.uuid4().hex[:6]
    for request in example_requests():
        if request.domain != DOMAIN:
            continue
        payload = example_payload(request)
        payload["job_id"] = f"demo-{run}-{request.op}"
        async with EventWaiter(settings, DOMAIN) as waiter:
            began = time.monotonic()
            with console.status(f"{request.op}: waiting for the generated asset..."):
                await publish(settings, DOMAIN, payload)
                event = await waiter.terminal_event(payload["job_id"], within=120)
        results.append((request.op, event, time.monotonic() - began))
    return results


@app.command()
def demo() -> None:
    """Start the broker, the simulator and the workers; run one job of every generation op."""
    console = Console()
    with console.status("starting the broker, the simulator and the workers..."):
        stack = Stack(StackOptions(training_seconds=30.0)).__enter__()
    try:
        results = asyncio.run(_run_examples(stack.bootstrap, console))
    finally:
        with console.status("stopping everything the demo started..."):
            stack.stop()
    table = Table(title="generated assets")
    for column in ("op", "event", "seconds", "assets"):
        table.add_column(column)
    for op, event, seconds in results:
        assets = [asset["url"] for asset in event["data"].get("assets", [])]
        shown = "\n".join(assets) or event["data"].get("structured_prompt", "")[:60]
        table.add_row(op, event["type"], f"{seconds:.1f}", shown)
    console.print(table)
    if any(event["type"] != "generation.completed" for _, event, _ in results):
        raise SystemExit(1)
