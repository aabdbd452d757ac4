"""The ``bria-fleet sim`` command is registered and rejects bad options in one line."""

import socket
import subprocess
import sys
import time

import httpx


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bria_fleet", "sim", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_lists_the_options() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for option in ("--token", "--training-seconds", "--empty", "--error-rate", "--outage-seconds"):
        assert option in result.stdout


def test_invalid_option_is_a_one_line_error() -> None:
    result = _run("--error-rate", "3", "--port", "0")
    assert result.returncode == 1
    assert "Invalid simulator options" in result.stderr
    assert "Traceback" not in result.stderr


def _served_log(*args: str) -> str:
    """Start the simulator, make one API call, stop it; what it logged."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "bria_fleet", "sim", "--port", str(port), *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/v1/models", headers={"api_token": "sim-token"})
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    return output


def test_each_request_is_logged_unless_quiet() -> None:
    assert '"GET /v1/models HTTP/1.1"' in _served_log()
    assert '"GET /v1/models HTTP/1.1"' not in _served_log("--quiet")
