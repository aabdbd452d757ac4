"""The root ``bria-fleet`` command; each command group lives in a module of its own."""

import importlib
import sys

import typer
from rich.console import Console

from bria_fleet.errors import BriaFleetError

app = typer.Typer(
    name="bria-fleet",
    help="Run Bria tailored-generation work as Kafka jobs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


# Each module adds its commands to `app` when imported; they are imported late so that a
# command module can import `app` without a cycle.
COMMAND_MODULES: tuple[str, ...] = (
    "kafka",
    "topics",
    "sim",
    "worker",
    "submit",
    "tail",
    "up",
    "demo",
)


def _register_commands() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(f"bria_fleet.cli.{name}")


def main() -> None:
    """Entry point of the console script: errors meant for people print as one line."""
    _register_commands()
    try:
        app()
    except BriaFleetError as error:
        Console(stderr=True).print(f"[bold red]error:[/] {error}", highlight=False)
        sys.exit(1)
