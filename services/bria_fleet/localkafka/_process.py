"""The broker's JVM as an operating-system process: ports, launch, identity and signals."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from bria_fleet.errors import BriaFleetError


def java_executable() -> str:
    """``$JAVA_HOME/bin/java`` if set, else ``java`` from the PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise BriaFleetError(
            "Java is not installed; install a JDK 17 or newer (or set JAVA_HOME) to run Kafka."
        )
    return found


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on ``host:port`` now (as the JVM binds, with SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str) -> int:
    """A port on ``host`` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port


def spawn(
    command: Sequence[str], *, log_file: Path, cwd: Path, new_session: bool
) -> subprocess.Popen[bytes]:
    """Start ``command`` in the background, its output appended to ``log_file``."""
    with log_file.open("ab") as log:
        return subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )


def command_line(pid: int) -> list[str] | None:
    """The arguments process ``pid`` runs with, or None when there is no such process."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        if Path("/proc/self").exists():
            return None
        return _command_line_from_ps(pid)
    except PermissionError:
        return _command_line_from_ps(pid)
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _command_line_from_ps(pid: int) -> list[str] | None:
    result = subprocess.run(
        ["ps", "-ww", "-o", "args=", "-p", str(pid)],
        capture_output=True,
        text=True,
        check=False,
    )
    args = result.stdout.strip()
    return args.split() if result.returncode == 0 and args else None


def is_alive(pid: int) -> bool:
    """Whether process ``pid`` exists and has not exited (reaping it if it is our zombie)."""
    with contextlib.suppress(ChildProcessError):
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def terminate(pid: int, *, grace_seconds: float) -> None:
    """SIGTERM ``pid``, wait up to ``grace_seconds`` for it to exit, then SIGKILL it."""
    if not _signal(pid, signal.SIGTERM):
        return
    if wait_for_exit(pid, grace_seconds):
        return
    _signal(pid, signal.SIGKILL)
    wait_for_exit(pid, 10.0)


def wait_for_exit(pid: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``pid`` to exit; whether it did."""
    deadline = time.monotonic() + timeout
    while is_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def _signal(pid: int, signum: signal.Signals) -> bool:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return False
    except PermissionError as error:
        raise BriaFleetError(
            f"not allowed to signal Kafka process {pid}; stop it as the user who started it."
        ) from error
    return True
