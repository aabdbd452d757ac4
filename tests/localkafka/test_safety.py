"""LocalKafka never signals a process that is not its broker, and checks its port first."""

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bria_fleet.errors import BriaFleetError
from bria_fleet.localkafka import LocalKafka
from tests.fixtures.kafka import free_port


@pytest.fixture
def unrelated_process() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sleep", "60"])
    yield process
    process.kill()
    process.wait()


@pytest.fixture
def pid_file_of_unrelated_process(
    tmp_path: Path, unrelated_process: subprocess.Popen[bytes]
) -> LocalKafka:
    broker = LocalKafka(tmp_path, port=free_port())
    broker.pid_file.write_text(f"{unrelated_process.pid}\n")
    return broker


def test_stop_leaves_an_unrelated_process_alive(
    pid_file_of_unrelated_process: LocalKafka, unrelated_process: subprocess.Popen[bytes]
) -> None:
    stopped = pid_file_of_unrelated_process.stop(timeout=1)

    assert stopped is False
    assert unrelated_process.poll() is None
    assert not pid_file_of_unrelated_process.pid_file.exists()


def test_status_does_not_count_an_unrelated_process_as_the_broker(
    pid_file_of_unrelated_process: LocalKafka,
) -> None:
    status = pid_file_of_unrelated_process.status()

    assert not status.running
    assert status.pid is None


def test_stop_without_a_broker_reports_nothing_stopped(tmp_path: Path) -> None:
    assert LocalKafka(tmp_path / "never-started").stop() is False


def test_start_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        with pytest.raises(BriaFleetError, match=f"port {port} .* is in use; pass --port"):
            LocalKafka(tmp_path, port=port).start(timeout=1)
