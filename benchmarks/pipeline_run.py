"""The pipeline example end to end on the local stack: wall time, polls, detection delay.

Starts a local broker, the simulator (training takes --training-seconds) and all four
workers with their default poll policies, publishes ``contracts/examples/pipeline.json``
(20 images → captions → training → generation) and reports, once it ends in
``generation.completed``: the wall time, the status polls each worker made, and how late the
training's completion was noticed. Usage:

    python benchmarks/pipeline_run.py [--training-seconds 60]
"""

import argparse
import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bria_fleet.settings import KafkaSettings
from bria_fleet.stack import Stack, StackOptions
from bria_fleet.submitting import EventStream, publish

PIPELINE = Path(__file__).resolve().parents[1] / "contracts" / "examples" / "pipeline.json"


def metric_samples(url: str) -> list[tuple[str, dict[str, str], float]]:
    text = httpx.get(f"{url}/metrics").text
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


async def run(bootstrap: str) -> tuple[str, float]:
    settings = KafkaSettings(bootstrap_servers=bootstrap)
    request: dict[str, Any] = json.loads(PIPELINE.read_text())
    run_id = uuid.uuid4().hex[:6]
    request["job_id"] = job_id = f"pipeline-{run_id}"
    request["dataset"]["name"] = f"pipeline-{run_id}"
    last = f"{job_id}/caption/train/generate"
    async with EventStream(settings, ["generation"]) as events:
        began = time.monotonic()
        await publish(settings, "ingest", request)
        event = await events.terminal_event(last, within=1800)
    return event["type"], time.monotonic() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--training-seconds", type=float, default=60.0)
    args = parser.parse_args()
    with Stack(StackOptions(training_seconds=args.training_seconds)) as stack:
        outcome, wall = asyncio.run(run(stack.bootstrap))
        print(
            f"pipeline of 20 images, training {args.training_seconds:g} s: {outcome}"
            f" after {wall:.1f} s wall time"
        )
        for domain, url in stack.workers.items():
            samples = metric_samples(url)
            polls = sum(v for n, _, v in samples if n == "bria_fleet_poll_requests_total")
            calls = sum(v for n, _, v in samples if n == "bria_fleet_api_requests_total")
            line = f"  {domain}: {calls:.0f} API calls, of them {polls:.0f} status polls"
            delay = {
                n: v
                for n, labels, v in samples
                if n.startswith("bria_fleet_poll_detection_delay_seconds")
                and labels.get("kind") == "training"
            }
            if delay.get("bria_fleet_poll_detection_delay_seconds_count"):
                seconds = delay["bria_fleet_poll_detection_delay_seconds_sum"]
                line += f"; training completion noticed {seconds:.1f} s after the API's updated_at"
            print(line)


if __name__ == "__main__":
    main()
