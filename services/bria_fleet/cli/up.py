"""``bria-fleet up``: broker, simulator and every worker, in the foreground."""

import signal
import time
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from bria_fleet.cli.root import app
from bria_fleet.stack import Stack, StackOptions


@app.command()
def up(
    training_seconds: Annotated[
        float, typer.Option(help="How long a training takes in the simulator.")
    ] = 60.0,
) -> None:
    """Run the broker, the simulator and all workers until Ctrl-C; then stop what it started."""
    console = Console()
    stopping = False

    def stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with console.status("starting the broker, the simulator and the workers..."):
        stack = Stack(StackOptions(training_seconds=training_seconds)).start()
    try:
        table = Table(title="bria-fleet is up", show_header=False)
        table.add_row("Kafka", stack.bootstrap)
        table.add_row("Bria API", stack.api_base_url)
        for domain, url in stack.workers.items():
            table.add_row(f"worker {domain}", f"{url}/metrics  /healthz  /readyz")
        for name, log in stack.logs().items():
            table.add_row(f"log {name}", str(log))
        console.print(table)
        console.print("Ctrl-C stops everything started here.")
        while not stopping:
            if gone := stack.exited():
                console.print(f"[red]stopped unexpectedly:[/] {', '.join(gone)}")
                raise typer.Exit(1)
            time.sleep(0.5)
    finally:
        with console.status("stopping..."):
            stack.stop()
