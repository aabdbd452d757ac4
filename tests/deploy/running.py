"""Waiting on containers from the tests: readiness, health, exit codes."""

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from tests.deploy.podman import podman


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def wait_until(check: Callable[[], bool], *, timeout: float, what: str) -> None:
    """Poll ``check`` every half second; fail the test naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    pytest.fail(f"{what} did not happen within {timeout:g} s")


def http_status(url: str) -> int | None:
    """The HTTP status of GET ``url``, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def http_json(url: str) -> Any:
    """GET ``url`` and parse its JSON body."""
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def inspect(container: str) -> dict[str, Any]:
    """``podman inspect`` of one container."""
    (data,) = json.loads(podman("inspect", "--type", "container", container).stdout)
    result: dict[str, Any] = data
    return result


def healthy(container: str) -> bool:
    """Run the container's healthcheck now (no systemd timers here); whether it passed."""
    return podman("healthcheck", "run", container, check=False).returncode == 0


def exited_with(container: str) -> int | None:
    """The exit code once ``container`` has exited, else None."""
    state = inspect(container)["State"]
    return None if state["Status"] not in {"exited", "stopped"} else int(state["ExitCode"])
