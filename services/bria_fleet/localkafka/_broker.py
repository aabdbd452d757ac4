"""A single-node Apache Kafka broker (KRaft) run from the jar cache, without Docker."""

import asyncio
import base64
import contextlib
import fcntl
import subprocess
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from bria_fleet.errors import BriaFleetError
from bria_fleet.localkafka import _config, _jars, _process
from bria_fleet.localkafka._ready import wait_until_ready

DEFAULT_PORT = 9092
DEFAULT_DATA_DIR = Path(".cache/kafka")
_MAIN_CLASS = "kafka.Kafka"
_FORMAT_TIMEOUT_SECONDS = 120.0

T = TypeVar("T")


@dataclass(frozen=True)
class BrokerStatus:
    """What a data directory's broker is doing."""

    running: bool
    bootstrap: str
    pid: int | None
    log_file: Path
    data_dir: Path


class LocalKafka:
    """One Kafka broker and controller on 127.0.0.1, its state kept in ``data_dir``.

    The pid file in ``data_dir`` names the broker this object may stop; a pid that is not
    a Kafka JVM running this directory's configuration is never signalled. With ``detach``
    (the default) the JVM runs in a session of its own and outlives this process and its
    terminal; without it, it stays in this process group, so Ctrl-C reaches it too.
    """

    def __init__(
        self,
        data_dir: Path | str = DEFAULT_DATA_DIR,
        port: int = DEFAULT_PORT,
        *,
        version: str = _jars.KAFKA_VERSION,
        heap: str = "512m",
        detach: bool = True,
        metrics_port: int | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self.version = version
        self.heap = heap
        self.detach = detach
        self.metrics_port = metrics_port
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """The bootstrap address of the requested port, ``127.0.0.1:<port>``."""
        return f"{_config.HOST}:{self.port}"

    @property
    def metrics_url(self) -> str | None:
        """Where the broker serves Prometheus metrics (JMX exporter), if it was asked to."""
        if self.metrics_port is None:
            return None
        return f"http://{_config.HOST}:{self.metrics_port}/metrics"

    @property
    def log_file(self) -> Path:
        """The broker's log (standard output and error of its JVM)."""
        return self.data_dir / "kafka.log"

    @property
    def pid_file(self) -> Path:
        """The file that holds the pid of the broker this directory started."""
        return self.data_dir / "kafka.pid"

    @property
    def config_file(self) -> Path:
        """The broker's ``server.properties``."""
        return self.data_dir / "server.properties"

    def fetch(self) -> Path:
        """Fetch the broker's jars into the cache if they are not there; their directory."""
        return _jars.fetch_jars(self.version)

    def jars_fetched(self) -> bool:
        """Whether the broker's jars are already in the cache."""
        return _jars.jars_present(self.version)

    def status(self) -> BrokerStatus:
        """Whether this directory's broker runs, and where."""
        pid = self._our_pid()
        port = self._configured_port() if pid is not None else None
        return BrokerStatus(
            running=pid is not None,
            bootstrap=f"{_config.HOST}:{port or self.port}",
            pid=pid,
            log_file=self.log_file,
            data_dir=self.data_dir,
        )

    def start(self, timeout: float = 60.0) -> BrokerStatus:
        """Start the broker, or reuse it if it runs; return once it answers metadata requests.

        Fetches the jars and formats the storage first when needed. Raises
        :class:`BriaFleetError` if the port is taken or the broker is not ready in ``timeout``
        seconds (the error names the log file).
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self._lock():
            current = self.status()
            if current.running:
                if current.bootstrap != self.bootstrap:
                    raise BriaFleetError(
                        f"the Kafka broker of {self.data_dir} already runs on {current.bootstrap};"
                        " stop it first or use another --data-dir."
                    )
                return current
            self._launch(timeout)
            return self.status()

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop this directory's broker: SIGTERM, then SIGKILL after ``timeout`` seconds.

        Returns whether a broker was stopped. A pid file naming a process that is not this
        directory's broker is stale: it is removed and that process is left alone.
        """
        if not self.data_dir.is_dir():
            return False
        with self._lock():
            pid = self._our_pid()
            if pid is not None:
                _process.terminate(pid, grace_seconds=timeout)
            if self._process is not None:
                self._process.poll()
                self._process = None
            self.pid_file.unlink(missing_ok=True)
            return pid is not None

    def _launch(self, timeout: float) -> None:
        if not _process.port_is_free(_config.HOST, self.port):
            raise BriaFleetError(
                f"port {self.port} on {_config.HOST} is in use; pass --port with a free port"
                " or stop what listens there."
            )
        jars = self.fetch()
        java = _process.java_executable()
        jvm_options = self._write_configuration(jars)
        if not (self._log_dirs / "meta.properties").is_file():
            self._format(java, jvm_options)
        command = [
            java,
            f"-Xmx{self.heap}",
            "-Xms128m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            *self._metrics_agent_options(),
            *jvm_options,
            _MAIN_CLASS,
            str(self.config_file),
        ]
        process = _process.spawn(
            command, log_file=self.log_file, cwd=self.data_dir, new_session=self.detach
        )
        self._process = process
        self.pid_file.write_text(f"{process.pid}\n")
        if not _run(_ready_within(self.port, timeout, lambda: process.poll() is not None)):
            self._abandon(process, timeout)

    @property
    def _log_dirs(self) -> Path:
        return self.data_dir / "kraft"

    def _write_configuration(self, jars: Path) -> list[str]:
        """Write the broker's and log4j's configuration; the JVM options that use them."""
        self.config_file.write_text(
            _config.server_properties(
                port=self.port,
                controller_port=_process.free_port(_config.HOST),
                log_dir=self._log_dirs,
            )
        )
        log4j = self.data_dir / "log4j2.properties"
        log4j.write_text(_config.log4j2_properties())
        self.log_file.write_bytes(b"")
        return [f"-Dlog4j2.configurationFile={log4j}", "-cp", f"{jars}/*"]

    def _metrics_agent_options(self) -> list[str]:
        """The JMX exporter as a Java agent serving every MBean, when metrics are asked for."""
        if self.metrics_port is None:
            return []
        config = self.data_dir / "jmx-exporter.yaml"
        config.write_text(_config.jmx_exporter_yaml())
        agent = _jars.metrics_agent_jar()
        return [f"-javaagent:{agent}={_config.HOST}:{self.metrics_port}:{config}"]

    def _abandon(self, process: subprocess.Popen[bytes], timeout: float) -> NoReturn:
        """Give up on a broker that did not come up: end it and say why."""
        exit_code = process.poll()
        _process.terminate(process.pid, grace_seconds=5.0)
        process.poll()
        self._process = None
        self.pid_file.unlink(missing_ok=True)
        if exit_code is not None:
            raise BriaFleetError(
                f"Kafka exited with code {exit_code} while starting; see {self.log_file}."
            )
        raise BriaFleetError(
            f"Kafka did not answer on {self.bootstrap} within {timeout:g} s; see {self.log_file}."
        )

    def _format(self, java: str, jvm_options: list[str]) -> None:
        command = [
            java,
            "-Xmx256m",
            # A short-lived tool: skipping the optimising JIT roughly halves its run time.
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            *jvm_options,
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id",
            _cluster_id(),
            "--config",
            str(self.config_file),
        ]
        with self.log_file.open("ab") as log:
            result = subprocess.run(
                command,
                cwd=self.data_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=_FORMAT_TIMEOUT_SECONDS,
                check=False,
            )
        if result.returncode != 0:
            raise BriaFleetError(
                f"formatting Kafka storage in {self.data_dir} failed; see {self.log_file}."
            )

    def _our_pid(self) -> int | None:
        """The pid in the pid file if it is alive and is this directory's broker."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        if not _process.is_alive(pid):
            return None
        args = _process.command_line(pid)
        if args is None:
            return None
        joined = " ".join(args)
        if _MAIN_CLASS in args and str(self.config_file) in joined:
            return pid
        return None

    def _configured_port(self) -> int | None:
        try:
            text = self.config_file.read_text()
        except FileNotFoundError:
            return None
        listener = _config.read_properties(text).get("advertised.listeners", "")
        _, _, port = listener.rpartition(":")
        return int(port) if port.isdigit() else None

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        with (self.data_dir / ".lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _cluster_id() -> str:
    """A random cluster id as Kafka writes them: url-safe base64 of 16 bytes, no padding."""
    while True:
        encoded = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not encoded.startswith("-"):
            return encoded


async def _ready_within(port: int, seconds: float, gave_up: Callable[[], bool]) -> bool:
    try:
        async with asyncio.timeout(seconds):
            return await wait_until_ready(_config.HOST, port, gave_up=gave_up)
    except TimeoutError:
        return False


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion in a thread of its own.

    This works whether or not the caller's thread runs an event loop, and leaves that
    thread's event loop alone.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
