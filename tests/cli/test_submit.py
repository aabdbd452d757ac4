"""``bria-fleet submit`` as people and scripts use it: a real process, a real broker."""

import asyncio
import json
import subprocess
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

import pytest

from bria_fleet.cli.tail import describe
from bria_fleet.sim import SimServer
from tests.fixtures.fleet import StartWorker
from tests.workers.helpers import EXAMPLES

BRIA_FLEET = [sys.executable, "-m", "bria_fleet"]


def test_an_invalid_request_is_refused_in_one_sentence_before_anything_is_published(
    tmp_path: Path,
) -> None:
    request = json.loads((EXAMPLES / "generation" / "text_to_image.json").read_text())
    request["num_results"] = 5
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(request))

    # An unreachable broker proves nothing was attempted: validation comes first.
    result = subprocess.run(
        [*BRIA_FLEET, "submit", "generation", str(path), "--bootstrap", "127.0.0.1:1"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "num_results" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.integration
async def test_submit_wait_prints_the_generated_asset_event(
    sim: SimServer, start_worker: StartWorker, kafka_bootstrap: str
) -> None:
    worker = start_worker("generation", api_base_url=sim.base_url, api_token=sim.token)
    await worker.wait_ready()
    example = EXAMPLES / "generation" / "text_to_image.json"

    command = [*BRIA_FLEET, "submit", "generation", str(example), "--wait"]
    process = await asyncio.create_subprocess_exec(
        *command, "--bootstrap", kafka_bootstrap, stdout=PIPE, stderr=PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)

    assert process.returncode == 0, stderr.decode()
    event = json.loads(stdout)
    assert event["type"] == "generation.completed"
    assert event["data"]["assets"]


def test_tail_describes_an_event_in_one_line_with_its_assets() -> None:
    event = {
        "type": "generation.completed",
        "job_id": "job-1",
        "occurred_at": "2026-11-22T10:11:12.000000Z",
        "data": {"assets": [{"url": "http://sim/a.png", "kind": "image"}]},
    }

    line = describe(event)

    assert "10:11:12" in line
    assert "generation.completed" in line
    assert "job-1" in line
    assert "http://sim/a.png" in line


def test_tail_describes_a_failure_by_its_error() -> None:
    event = {
        "type": "training.failed",
        "job_id": "job-2",
        "occurred_at": "2026-11-22T10:11:12.000000Z",
        "data": {"op": "train_model"},
        "error": {"code": "training_failed", "message": "the model failed"},
    }

    assert "training_failed: the model failed" in describe(event)
