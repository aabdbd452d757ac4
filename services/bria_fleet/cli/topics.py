"""``bria-fleet topics``: the fleet's Kafka topics."""

import asyncio
from typing import Annotated

import typer

from bria_fleet.cli.root import app
from bria_fleet.settings import KafkaSettings
from bria_fleet.topics_admin import create_fleet_topics, fleet_topics

topics_app = typer.Typer(name="topics", help="The fleet's Kafka topics.", no_args_is_help=True)
app.add_typer(topics_app)


@topics_app.command()
def create(
    bootstrap: Annotated[
        str | None,
        typer.Option(help="Kafka bootstrap servers; default: KAFKA_BOOTSTRAP_SERVERS."),
    ] = None,
    partitions: Annotated[
        int | None,
        typer.Option(min=1, help="Partitions per topic; default: KAFKA_TOPIC_PARTITIONS."),
    ] = None,
    replication_factor: Annotated[
        int | None,
        typer.Option(
            min=1, help="Replicas per partition; default: KAFKA_TOPIC_REPLICATION_FACTOR."
        ),
    ] = None,
) -> None:
    """Create every topic of every domain (compacted operations topics); existing ones stay."""
    settings = KafkaSettings()
    if bootstrap is not None:
        settings = settings.model_copy(update={"bootstrap_servers": bootstrap})
    report = asyncio.run(
        create_fleet_topics(settings, partitions=partitions, replication_factor=replication_factor)
    )
    created = set(report.created)
    for spec in fleet_topics():
        outcome = "created" if spec.name in created else "exists "
        cleanup = "compact" if spec.compacted else "delete"
        typer.echo(f"{outcome}  {spec.name}  ({cleanup})")
    typer.echo(
        f"{len(report.created)} created, {len(report.existing)} already there"
        f" on {settings.bootstrap_servers}."
    )
