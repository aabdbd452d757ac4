"""``bria-fleet demo``: images to generated assets on this machine, with live progress."""

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from bria_fleet.cli.root import app
from bria_fleet.demo_pipeline import PipelineRun, folder_images, pipeline_request, sample_images
from bria_fleet.settings import KafkaSettings
from bria_fleet.stack import Stack, StackOptions
from bria_fleet.submitting import EventStream, publish

# A demo training lasts seconds, not hours: poll it like a short one.
DEMO_POLLS = {
    "WORKER_POLL_POLICIES": json.dumps(
        {"training": {"first_delay": 2.0, "growth": 1.3, "cap": 5.0, "deadline": 3600}}
    )
}
LABELS = {
    "ingest": "upload images",
    "caption": "caption",
    "training": "train",
    "generation": "generate",
}


async def _run(bootstrap: str, request: dict[str, Any], progress: Progress) -> PipelineRun:
    settings = KafkaSettings(bootstrap_servers=bootstrap)
    run = PipelineRun(request["job_id"], images=len(request["images"]))
    tasks = {
        domain: progress.add_task(LABELS[domain], total=step.total, status=step.status)
        for domain, step in run.steps.items()
    }
    async with EventStream(settings, list(run.steps)) as events:
        await publish(settings, "ingest", request)
        async for event in events:
            run.apply(event)
            for domain, step in run.steps.items():
                done = step.terminal is not None
                total = step.total if step.total is not None else (1 if done else None)
                completed = step.done if step.total is not None else (1 if done else 0)
                progress.update(tasks[domain], total=total, completed=completed, status=step.status)
            if run.finished:
                break
    return run


def _polls(stack: Stack) -> dict[str, float]:
    polls = {}
    for domain, url in stack.workers.items():
        text = httpx.get(f"{url}/metrics").text
        polls[domain] = sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == "bria_fleet_poll_requests_total"
        )
    return polls


@app.command()
def demo(
    folder: Annotated[
        Path | None, typer.Argument(help="A folder of images; generated samples if omitted.")
    ] = None,
    training_seconds: Annotated[
        float, typer.Option(help="How long a training takes in the simulator.")
    ] = 20.0,
) -> None:
    """Upload images, caption them, train a model and generate with it, watching it live.

    Starts a local Kafka broker, the Bria API simulator and the four workers; publishes one
    pipeline message; stops everything it started at the end.
    """
    console = Console()
    images = folder_images(folder) if folder else sample_images()
    request = pipeline_request(images)
    with console.status("starting the broker, the simulator and the workers..."):
        stack = Stack(
            StackOptions(training_seconds=training_seconds, worker_env=DEMO_POLLS)
        ).start()
    try:
        console.print(f"job [bold]{request['job_id']}[/]: {len(images)} images → asset")
        columns = (
            SpinnerColumn(),
            TextColumn("{task.description:<14}"),
            BarColumn(),
            TextColumn("{task.fields[status]:<12}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as progress:
            run = asyncio.run(_run(stack.bootstrap, request, progress))
        polls = _polls(stack)
    finally:
        with console.status("stopping everything the demo started..."):
            stack.stop()
    table = Table(title="summary")
    for column in ("step", "job", "ended", "after (s)", "status polls"):
        table.add_column(column)
    for domain, step in run.steps.items():
        ended = step.terminal["type"] if step.terminal else "-"
        after = f"{step.ended_after:.1f}" if step.ended_after is not None else "-"
        table.add_row(LABELS[domain], step.job_id, ended, after, f"{polls.get(domain, 0):.0f}")
    console.print(table)
    if not run.assets:
        failed = next((s.terminal for s in run.steps.values() if s.terminal), None)
        error = (failed or {}).get("error") or {}
        console.print(f"[red]the pipeline stopped:[/] {error.get('message', 'no asset')}")
        raise typer.Exit(1)
    console.print("[bold green]generated assets:[/]")
    for url in run.assets:
        console.print(f"  {url}")
