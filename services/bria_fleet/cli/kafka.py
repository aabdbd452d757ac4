"""``bria-fleet kafka``: a real single-node Kafka broker on this machine, no Docker needed."""

import time
from pathlib import Path
from typing import Annotated

import typer

from bria_fleet.cli.root import app
from bria_fleet.localkafka import (
    DEFAULT_DATA_DIR,
    DEFAULT_PORT,
    KAFKA_VERSION,
    LocalKafka,
    fetch_jars,
    jars_present,
    metrics_agent_jar,
)

kafka_app = typer.Typer(
    name="kafka",
    help="A real single-node Apache Kafka (KRaft) on 127.0.0.1, no Docker needed.",
    no_args_is_help=True,
)
app.add_typer(kafka_app)

DataDir = Annotated[
    Path,
    typer.Option(help="Where the broker keeps its configuration, data, log and pid file."),
]
Port = Annotated[int, typer.Option(min=1, max=65535, help="The broker's PLAINTEXT port.")]
Timeout = Annotated[
    float, typer.Option(min=1, help="Seconds to wait for the broker to answer before giving up.")
]


def _say(message: str) -> None:
    """Progress for people on standard error; standard output stays the bootstrap address."""
    typer.echo(message, err=True)


@kafka_app.command()
def fetch() -> None:
    """Fetch the broker's jars (and its metrics agent) from Maven Central into the cache
    (once; needs Maven)."""
    if not jars_present():
        _say(f"Fetching the Kafka {KAFKA_VERSION} jars with Maven...")
    _say(f"Kafka {KAFKA_VERSION} jars: {fetch_jars()}")
    _say(f"JMX exporter agent (broker metrics): {metrics_agent_jar()}")


@kafka_app.command()
def start(
    port: Port = DEFAULT_PORT, data_dir: DataDir = DEFAULT_DATA_DIR, timeout: Timeout = 60.0
) -> None:
    """Start the broker in the background (or reuse it) and print its bootstrap address."""
    broker = LocalKafka(data_dir, port)
    current = broker.status()
    if current.running and current.bootstrap == broker.bootstrap:
        _say(f"Kafka already runs (pid {current.pid}); log: {current.log_file}")
    else:
        if not broker.jars_fetched():
            _say(f"Fetching the Kafka {KAFKA_VERSION} jars with Maven (first run)...")
        began = time.monotonic()
        current = broker.start(timeout)
        _say(
            f"Kafka {KAFKA_VERSION} started in {time.monotonic() - began:.1f} s"
            f" (pid {current.pid}); log: {current.log_file}"
        )
    typer.echo(current.bootstrap)


@kafka_app.command()
def stop(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Stop the broker this data directory started; no other process is ever signalled."""
    broker = LocalKafka(data_dir)
    if broker.stop():
        _say("Kafka stopped.")
    else:
        _say(f"Kafka was not running from {broker.data_dir}.")


@kafka_app.command()
def status(data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Say whether the broker runs, its bootstrap address and its log; exit 1 if it does not."""
    current = LocalKafka(data_dir).status()
    state = f"running (pid {current.pid})" if current.running else "not running"
    typer.echo(f"kafka: {state}\nbootstrap: {current.bootstrap}\nlog: {current.log_file}")
    if not current.running:
        raise typer.Exit(code=1)
