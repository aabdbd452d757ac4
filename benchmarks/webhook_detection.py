"""How late a finished v2 generation reaches downstream: polling alone, then with webhooks.

Runs the local stack twice in one process tree (its own broker, simulator and workers on
free ports), each time publishing ``--jobs`` FIBO image jobs a quarter second apart, whose
asynchronous generation takes ``--generation-seconds``. For each job the detection delay is
the time from the API's own ``updated_at`` (the simulator's completion) to the
``generation.completed`` event's ``occurred_at``. Prints p50, p95 and max per mode and
writes ``.cache/bench/webhook_detection.json``. Usage:

    python benchmarks/webhook_detection.py [--jobs 40] [--generation-seconds 4]
"""

import argparse
import asyncio
import json
import shutil
import socket
import statistics
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bria_fleet.settings import KafkaSettings
from bria_fleet.stack import Stack, StackOptions
from bria_fleet.submitting import EventStream, publish
from bria_fleet.workers.domains import available_domains
from bria_fleet_contracts import is_terminal

EXAMPLE = (
    Path(__file__).resolve().parents[1] / "contracts/examples/generation/fibo_generate_image.json"
)
RESULT = Path(".cache/bench/webhook_detection.json")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _instant(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


async def _run_jobs(stack: Stack, jobs: int) -> list[float]:
    settings = KafkaSettings(bootstrap_servers=stack.bootstrap)
    template: dict[str, Any] = json.loads(EXAMPLE.read_text())
    run = uuid.uuid4().hex[:6]
    job_ids = [f"bench-{run}-{n}" for n in range(jobs)]
    async with EventStream(settings, ["generation"]) as events:
        for job_id in job_ids:
            await publish(settings, "generation", {**template, "job_id": job_id})
            await asyncio.sleep(0.25)
        pending, finished = set(job_ids), []
        async with asyncio.timeout(300):
            async for event in events:
                if event["job_id"] in pending and is_terminal(event["type"]):
                    pending.discard(event["job_id"])
                    finished.append(event)
                    if not pending:
                        break
    delays = []
    async with httpx.AsyncClient(headers={"api_token": stack.api_token}) as client:
        for event in finished:
            assert event["type"] == "generation.completed", event
            status = await client.get(
                f"{stack.api_base_url}/v2/status/{event['data']['api_request_id']}"
            )
            assert status.status_code == 200, (event["data"], status.text)
            api_done = _instant(status.json()["updated_at"])
            delays.append((_instant(event["occurred_at"]) - api_done).total_seconds())
    return delays


def _measure(jobs: int, generation_seconds: float, webhooks: bool, workdir: Path) -> list[float]:
    first_http_port = free_port()
    generation_port = first_http_port + available_domains().index("generation")
    env = {"WORKER_WEBHOOK_PUBLIC_URL": f"http://127.0.0.1:{generation_port}"} if webhooks else {}
    options = StackOptions(
        kafka_port=free_port(),
        kafka_data_dir=workdir / f"kafka-{uuid.uuid4().hex[:6]}",
        sim_port=free_port(),
        first_http_port=first_http_port,
        log_dir=workdir / "logs",
        worker_env=env,
    )
    try:
        with Stack(options) as stack:
            httpx.put(
                f"{stack.api_base_url}/_sim/timing", json={"generation_seconds": generation_seconds}
            ).raise_for_status()
            return asyncio.run(_run_jobs(stack, jobs))
    finally:
        shutil.rmtree(options.kafka_data_dir, ignore_errors=True)  # the broker's data, not logs


def _summary(delays: list[float]) -> dict[str, float]:
    ordered = sorted(delays)
    return {
        "p50": statistics.median(ordered),
        "p95": ordered[max(0, round(0.95 * len(ordered)) - 1)],
        "max": ordered[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--generation-seconds", type=float, default=4.0)
    args = parser.parse_args()
    workdir = Path(".cache/bench")
    workdir.mkdir(parents=True, exist_ok=True)
    results = {}
    for mode, webhooks in (("polling", False), ("webhooks", True)):
        summary = _summary(_measure(args.jobs, args.generation_seconds, webhooks, workdir))
        results[mode] = summary
        print(
            f"detection delay, {mode:8}: p50 {summary['p50']:.3f} s, p95 {summary['p95']:.3f} s,"
            f" max {summary['max']:.3f} s ({args.jobs} v2 jobs of {args.generation_seconds:g} s)"
        )
    RESULT.write_text(json.dumps({"jobs": args.jobs, **results}, indent=2))


if __name__ == "__main__":
    main()
