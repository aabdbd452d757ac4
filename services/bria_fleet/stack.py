"""The whole fleet on one machine, for people trying it: broker, simulator, workers.

A Kafka broker named by ``KAFKA_BOOTSTRAP_SERVERS`` or an API named by ``BRIA_API_BASE_URL``
is used as it is; otherwise the local broker and the simulator are started. Everything the
stack starts it stops again, and nothing else.
"""

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

from bria_fleet.errors import BriaFleetError
from bria_fleet.localkafka import LocalKafka
from bria_fleet.settings import KafkaSettings
from bria_fleet.topics_admin import create_fleet_topics
from bria_fleet.workers.domains import available_domains

READY_SECONDS = 90.0


@dataclass
class StackOptions:
    """Where the stack's parts listen and keep their files."""

    kafka_port: int = 9092
    kafka_data_dir: Path = Path(".cache/kafka")
    sim_port: int = 8765
    sim_token: str = "sim-token"
    training_seconds: float = 60.0
    first_http_port: int = 8001
    log_dir: Path = Path(".cache/logs")
    worker_env: dict[str, str] = field(default_factory=dict)


def spawn(command: list[str], env: dict[str, str], log: Path) -> "subprocess.Popen[bytes]":
    """Start ``bria-fleet <command>`` in a child process with ``env`` added, logging to ``log``."""
    return subprocess.Popen(
        [sys.executable, "-m", "bria_fleet", *command],
        env={**os.environ, **env},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


@dataclass
class _Child:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    ready_url: str


@dataclass
class Stack:
    """``with Stack(options) as stack:``, or ``start()`` then ``stop()``.

    ``stack.workers`` maps each domain to its worker's HTTP root.
    """

    options: StackOptions = field(default_factory=StackOptions)
    bootstrap: str = ""
    api_base_url: str = ""
    api_token: str = ""
    workers: dict[str, str] = field(default_factory=dict)
    _broker: LocalKafka | None = None
    _children: list[_Child] = field(default_factory=list)

    def __enter__(self) -> "Stack":
        return self.start()

    def start(self) -> "Stack":
        """Start every part and wait until each is ready; on failure, stop what started."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _start(self) -> None:
        options = self.options
        options.log_dir.mkdir(parents=True, exist_ok=True)
        self.bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
        if not self.bootstrap:
            broker = LocalKafka(options.kafka_data_dir, options.kafka_port)
            if not broker.status().running:
                self._broker = broker
            self.bootstrap = broker.start().bootstrap
        asyncio.run(create_fleet_topics(KafkaSettings(bootstrap_servers=self.bootstrap)))
        self.api_base_url = os.environ.get("BRIA_API_BASE_URL", "")
        self.api_token = os.environ.get("BRIA_API_TOKEN", "")
        if not self.api_base_url:
            self.api_base_url = f"http://127.0.0.1:{options.sim_port}"
            self.api_token = options.sim_token
            command = ["sim", "--port", str(options.sim_port), "--token", options.sim_token]
            command += ["--training-seconds", str(options.training_seconds)]
            self._spawn("simulator", command, {}, f"{self.api_base_url}/_sim/health")
        for offset, domain in enumerate(available_domains()):
            port = options.first_http_port + offset
            env = {
                "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
                "BRIA_API_BASE_URL": self.api_base_url,
                "BRIA_API_TOKEN": self.api_token,
                "HTTP_PORT": str(port),
                **options.worker_env,
            }
            url = f"http://127.0.0.1:{port}"
            self._spawn(f"worker-{domain}", ["worker", domain], env, f"{url}/readyz")
            self.workers[domain] = url
        for child in self._children:
            self._wait_ready(child)

    def _spawn(self, name: str, command: list[str], env: dict[str, str], ready_url: str) -> None:
        log = self.options.log_dir / f"{name}.log"
        process = spawn(command, env, log)
        self._children.append(_Child(name, process, log, ready_url))

    def _wait_ready(self, child: _Child) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if child.process.poll() is not None:
                raise BriaFleetError(f"{child.name} exited early; see {child.log}")
            try:
                if httpx.get(child.ready_url, timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise BriaFleetError(
            f"{child.name} was not ready after {READY_SECONDS:g} s; see {child.log}"
        )

    def exited(self) -> list[str]:
        """Names of the children that have stopped on their own."""
        return [child.name for child in self._children if child.process.poll() is not None]

    def logs(self) -> dict[str, Path]:
        """Each child's log file."""
        return {child.name: child.log for child in self._children}

    def stop(self) -> None:
        """Stop the workers (gracefully), then the simulator, then a broker it started."""
        for child in reversed(self._children):
            if child.process.poll() is None:
                child.process.terminate()
        for child in reversed(self._children):
            try:
                child.process.wait(60)
            except subprocess.TimeoutExpired:
                child.process.kill()
        self._children.clear()
        if self._broker is not None:
            self._broker.stop()
            self._broker = None
