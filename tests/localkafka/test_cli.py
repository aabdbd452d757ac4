"""``bria-fleet kafka``: the thin command line over LocalKafka."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

import bria_fleet.cli.kafka  # noqa: F401  (registers the command group)
from bria_fleet.cli import app
from bria_fleet.localkafka import LocalKafka


def test_status_of_a_stopped_broker_says_so_and_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["kafka", "status", "--data-dir", str(tmp_path)])

    assert result.exit_code == 1
    assert "kafka: not running" in result.stdout
    assert f"log: {tmp_path / 'kafka.log'}" in result.stdout


@pytest.mark.integration
def test_start_of_a_running_broker_prints_its_bootstrap(local_kafka: LocalKafka) -> None:
    port, data_dir = str(local_kafka.port), str(local_kafka.data_dir)

    result = CliRunner().invoke(app, ["kafka", "start", "--port", port, "--data-dir", data_dir])

    assert result.exit_code == 0
    assert result.stdout == f"{local_kafka.bootstrap}\n"


@pytest.mark.integration
def test_status_of_a_running_broker_gives_bootstrap_and_log(local_kafka: LocalKafka) -> None:
    result = CliRunner().invoke(app, ["kafka", "status", "--data-dir", str(local_kafka.data_dir)])

    assert result.exit_code == 0
    assert "kafka: running" in result.stdout
    assert f"bootstrap: {local_kafka.bootstrap}" in result.stdout
    assert f"log: {local_kafka.log_file}" in result.stdout
