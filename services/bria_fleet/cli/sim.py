"""``bria-fleet sim``: serve the Bria API simulator in the foreground."""

import socket
from typing import Annotated, Literal

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console

from bria_fleet.cli.root import app
from bria_fleet.errors import BriaFleetError
from bria_fleet.sim import FaultConfig, SimConfig, TimingConfig, create_app
from bria_fleet.sim.config import default_token

Distribution = Literal["uniform", "normal", "exponential"]


def _config(
    host: str,
    port: int,
    token: str | None,
    empty: bool,
    seed: int | None,
    public_base_url: str | None,
    timing: dict[str, float],
    faults: dict[str, object],
) -> SimConfig:
    try:
        return SimConfig(
            host=host,
            port=port,
            token=token or default_token(),
            empty=empty,
            seed=seed,
            public_base_url=public_base_url,
            timing=TimingConfig.model_validate(timing),
            faults=FaultConfig.model_validate(faults),
        )
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()
        )
        raise BriaFleetError(f"Invalid simulator options: {problems}") from error


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only for that proto.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise BriaFleetError(
            f"Cannot listen on {host}:{port} ({error.strerror}); pass another --port."
        ) from error
    return sock


@app.command("sim")
def sim(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on; 0 picks a free one.")] = 8765,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="BRIA_API_TOKEN",
            show_envvar=True,
            help="Token accepted as header api_token or X-API-Key (default: sim-token).",
        ),
    ] = None,
    training_seconds: Annotated[float, typer.Option(help="How long a training takes.")] = 30.0,
    caption_seconds: Annotated[
        float, typer.Option(help="How long regenerating all captions takes.")
    ] = 1.0,
    generation_seconds: Annotated[
        float, typer.Option(help="How long an asynchronous generation takes.")
    ] = 1.0,
    empty: Annotated[bool, typer.Option(help="Start without the seeded objects.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="Log no line per request.")] = False,
    seed: Annotated[int | None, typer.Option(help="Seed of every random choice.")] = None,
    public_base_url: Annotated[
        str | None, typer.Option(help="Host root to put in returned URLs.")
    ] = None,
    latency_ms: Annotated[float, typer.Option(help="Fixed latency added to each call.")] = 0.0,
    latency_jitter_ms: Annotated[float, typer.Option(help="Scale of random latency.")] = 0.0,
    latency_distribution: Annotated[
        Distribution, typer.Option(help="Distribution of the random latency.")
    ] = "uniform",
    error_rate: Annotated[float, typer.Option(help="Share of calls answering 5xx.")] = 0.0,
    error_pattern: Annotated[
        str, typer.Option(help="fnmatch pattern of the paths that get errors.")
    ] = "*",
    error_status: Annotated[int, typer.Option(help="Status of injected errors.")] = 500,
    rate_limit_allowed: Annotated[int, typer.Option(help="Calls allowed between 429 bursts.")] = 0,
    rate_limit_burst: Annotated[
        int, typer.Option(help="429 answers in a row per burst; 0 turns bursts off.")
    ] = 0,
    retry_after: Annotated[int, typer.Option(help="Retry-After of burst 429s (seconds).")] = 1,
    outage_seconds: Annotated[
        float, typer.Option(help="Answer 503 to every call for this long after start.")
    ] = 0.0,
    training_failure_rate: Annotated[
        float, typer.Option(help="Share of trainings ending Failed.")
    ] = 0.0,
    generation_failure_rate: Annotated[
        float, typer.Option(help="Share of generations ending in ERROR.")
    ] = 0.0,
) -> None:
    """Serve the Bria engine (v1, v2) and Vision Studio APIs from memory."""
    faults: dict[str, object] = {
        "seed": seed,
        "latency": {
            "fixed_seconds": latency_ms / 1000,
            "jitter_seconds": latency_jitter_ms / 1000,
            "distribution": latency_distribution,
        },
        "errors": [{"pattern": error_pattern, "rate": error_rate, "status": error_status}]
        if error_rate > 0
        else [],
        "rate_limits": [
            {
                "allowed": rate_limit_allowed,
                "burst": rate_limit_burst,
                "retry_after_seconds": retry_after,
            }
        ]
        if rate_limit_burst > 0
        else [],
        "outage_seconds": outage_seconds,
        "training_failure_rate": training_failure_rate,
        "generation_failure_rate": generation_failure_rate,
    }
    timing = {
        "training_seconds": training_seconds,
        "caption_seconds": caption_seconds,
        "generation_seconds": generation_seconds,
    }
    config = _config(host, port, token, empty, seed, public_base_url, timing, faults)
    sock = _listen(config.host, config.port)
    bound = sock.getsockname()[1]
    Console(stderr=True).print(
        f"Bria API simulator on [bold]http://{config.host}:{bound}[/] "
        f"({'empty' if config.empty else 'seeded'}; admin under /_sim)",
        highlight=False,
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), log_level="info", access_log=not quiet)
    )
    server.run(sockets=[sock])
