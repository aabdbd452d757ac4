"""``bria-fleet worker``: run one domain's consumer, or all of them side by side."""

import asyncio
import logging
import os
import signal
import subprocess
import sys
from typing import Annotated, Literal, TypeVar

import typer
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from bria_fleet.cli.root import app
from bria_fleet.errors import BriaFleetError
from bria_fleet.runtime.domain_worker import Worker
from bria_fleet.runtime.serve import serve
from bria_fleet.runtime.worker_settings import WorkerSettings
from bria_fleet.settings import ApiSettings, KafkaSettings
from bria_fleet.topics_admin import require_topics
from bria_fleet.workers.domains import available_domains, logic_for
from bria_fleet_contracts import Domain, topics_for

SettingsT = TypeVar("SettingsT", bound=BaseSettings)
WorkerChoice = Literal["ingest", "caption", "training", "generation", "all"]


NO_TOKEN = (
    "BRIA_API_TOKEN is not set. Set it (and BRIA_API_BASE_URL) for the real Bria API, or "
    "point the worker at the simulator: BRIA_API_BASE_URL=http://127.0.0.1:8765 "
    "BRIA_API_TOKEN=sim-token (bria-fleet up does this for you)."
)


def _load(settings_class: type[SettingsT]) -> SettingsT:
    """Settings from the environment, or one sentence naming the variables that are wrong."""
    try:
        return settings_class()
    except ValidationError as error:
        prefix = str(settings_class.model_config.get("env_prefix", ""))
        problems = "; ".join(
            f"{_variable(prefix, problem['loc'])}: {problem['msg']}" for problem in error.errors()
        )
        raise BriaFleetError(f"Invalid configuration: {problems}.") from error


def _variable(prefix: str, location: tuple[int | str, ...]) -> str:
    name = str(location[0]) if location else "?"
    return name if name.isupper() else f"{prefix}{name}".upper()


def _serve_one(
    domain: Domain, settings: WorkerSettings, kafka: KafkaSettings, api: ApiSettings
) -> int:
    """Run ``domain``'s worker in the foreground until SIGINT or SIGTERM."""
    # A broker that does not answer, or missing topics, is one sentence here rather than a
    # traceback from inside the server's start-up.
    asyncio.run(require_topics(kafka, list(topics_for(domain).all)))
    worker = Worker(domain, logic_for(domain), kafka=kafka, api=api, settings=settings)
    return serve(worker.app, settings.http_host, settings.http_port, settings.graceful_timeout)


def _serve_all(settings: WorkerSettings) -> int:
    """One child process per domain, on consecutive HTTP ports; signals are passed on."""
    children: list[subprocess.Popen[bytes]] = []
    for offset, domain in enumerate(available_domains()):
        env = {**os.environ, "HTTP_PORT": str(settings.http_port + offset)}
        command = [sys.executable, "-m", "bria_fleet", "worker", domain]
        children.append(subprocess.Popen(command, env=env))

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return max(child.wait() for child in children)


@app.command()
def worker(
    domain: Annotated[WorkerChoice, typer.Argument(help="The domain, or all of them.")],
    http_port: Annotated[
        int | None, typer.Option(help="Port of /metrics, /healthz, /readyz [env HTTP_PORT].")
    ] = None,
) -> None:
    """Run a worker: consume bria.<domain>.requests, call the Bria API, publish events."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs every request at INFO; the API metrics already count them.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Checked here, before anything starts, for one worker and for all of them alike.
    settings, kafka, api = _load(WorkerSettings), _load(KafkaSettings), _load(ApiSettings)
    if api.token is None or not api.token.get_secret_value():
        raise BriaFleetError(NO_TOKEN)
    if http_port is not None:
        settings = settings.model_copy(update={"http_port": http_port})
    if domain == "all":
        raise typer.Exit(_serve_all(settings))
    raise typer.Exit(_serve_one(domain, settings, kafka, api))
