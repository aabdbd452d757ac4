"""``bria-fleet worker`` refuses a configuration it cannot run with, in one sentence."""

import os
import subprocess
import sys

import pytest


def _worker(domain: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("BRIA_", "WORKER_"))}
    return subprocess.run(
        [sys.executable, "-m", "bria_fleet", "worker", domain],
        env={**environment, "COLUMNS": "200", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("domain", ["generation", "all"])
def test_a_worker_without_an_api_token_says_how_to_set_one(domain: str) -> None:
    result = _worker(domain)
    assert result.returncode == 1
    assert "BRIA_API_TOKEN is not set" in result.stderr
    assert "BRIA_API_BASE_URL=http://127.0.0.1:8765" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_invalid_setting_is_named_by_its_environment_variable() -> None:
    result = _worker("generation", BRIA_API_TOKEN="t", WORKER_CONCURRENCY="many")
    assert result.returncode == 1
    assert "Invalid configuration: WORKER_CONCURRENCY:" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_worker_whose_broker_does_not_answer_says_so_in_one_sentence() -> None:
    result = _worker("generation", BRIA_API_TOKEN="t", KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1")
    assert result.returncode == 1
    assert "cannot reach Kafka at 127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr
