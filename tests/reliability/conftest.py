"""Fixtures of the fleet reliability suite: one broker and one simulator of its own for the
package, worker replicas per test, and the figures each scenario reports.

``RELIABILITY_SCALE=full`` (``make test-reliability``) runs every scenario at full size;
otherwise (``make test``) a small slice of each runs. The figures are printed in the
terminal summary (so they show without ``-s``) and written to
``.cache/reliability/figures-<scale>.json``.
"""

import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bria_fleet_contracts import Domain
from tests.reliability.fleet_harness import Broker, EventLog, Figures, Replicas, Simulator

SCALE = "full" if os.environ.get("RELIABILITY_SCALE", "").lower() == "full" else "slice"
PARTITIONS = 6
RESULTS = Path(".cache/reliability")
# Distinctive, so a hit anywhere is certainly a leak: the simulator accepts only this token.
TOKEN = f"bria-secret-{uuid.uuid4().hex}-do-not-log"

REPORTED: list[Figures] = []


@dataclass
class Fleet:
    """The package's broker and simulator, and every replica started on them."""

    broker: Broker
    sim: Simulator
    work: Path
    token: str
    replica_sets: list[Replicas] = field(default_factory=list)

    def replicas(self, domain: Domain, **env: str) -> Replicas:
        """A new (empty) set of ``domain`` replicas with the fleet's settings plus ``env``."""
        environment = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.broker.bootstrap,
            "BRIA_API_BASE_URL": self.sim.url,
            "BRIA_API_TOKEN": self.token,
            "WORKER_HTTP_HOST": "127.0.0.1",
            "WORKER_GRACEFUL_TIMEOUT": "40",
            **env,
        }
        replicas = Replicas(domain, environment, self.work)
        self.replica_sets.append(replicas)
        return replicas

    def worker_logs(self) -> list[Path]:
        """Every worker log written so far."""
        return [log for replicas in self.replica_sets for log in replicas.logs()]


@pytest.fixture(scope="package")
async def fleet(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Fleet]:
    """The suite's own broker (6 partitions per topic) and simulator."""
    work = tmp_path_factory.mktemp("reliability")
    broker = Broker(work / "kafka")
    broker.start()
    sim = Simulator(TOKEN, work / "sim.log")
    try:
        sim.wait_ready()
        await broker.create_topics(PARTITIONS)
        yield Fleet(broker, sim, work, TOKEN)
    finally:
        sim.stop()
        broker.stop()


@pytest.fixture
async def fresh(fleet: Fleet) -> AsyncIterator[Fleet]:
    """The fleet with no faults and default timing; the call log collected during the test;
    every replica this test started stopped after it."""
    fleet.sim.set_faults()
    fleet.sim.set_timing(generation_seconds=0)
    started = len(fleet.replica_sets)
    await fleet.sim.start_collecting()
    yield fleet
    await fleet.sim.stop_collecting()
    for replicas in fleet.replica_sets[started:]:
        replicas.terminate()
    for replicas in fleet.replica_sets[started:]:
        replicas.stop_all()
    fleet.sim.set_faults()


@pytest.fixture
async def event_log(fleet: Fleet) -> AsyncIterator[Callable[..., Awaitable[EventLog]]]:
    """``await event_log(domains)`` … every event and dead letter from now on."""
    logs: list[EventLog] = []

    async def follow(*domains: Domain) -> EventLog:
        log = EventLog(fleet.broker.settings, domains)
        await log.start()
        logs.append(log)
        return log

    yield follow
    for log in logs:
        await log.stop()


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[Figures]:
    """The figures of this scenario, reported at the end of the session."""
    name = request.node.name.removeprefix("test_")
    reported = Figures(name, {"scale": SCALE})
    started = time.monotonic()
    yield reported
    reported.add(wall_seconds=round(time.monotonic() - started, 1))
    REPORTED.append(reported)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print every scenario's figures and write them to ``.cache/reliability/``."""
    if not REPORTED:
        return
    terminalreporter.section(f"fleet reliability figures ({SCALE})")
    for reported in REPORTED:
        terminalreporter.write_line(reported.line())
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"figures-{SCALE}.json"
    path.write_text(json.dumps({f.scenario: f.values for f in REPORTED}, indent=2, default=str))
    terminalreporter.write_line(f"written to {path}")
