"""Domain logic run in process: the simulator behind httpx's ASGI transport, no broker.

The runtime's part is played by a few lines: parse the request as the job runner does, run
the logic with a ``JobContext``, and poll a started watch with ``PollInput`` until it ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from bria_fleet.api import BriaApi, RetryPolicy, Throttle, create_api
from bria_fleet.runtime.outcomes import (
    AnyLogic,
    Completed,
    EventSpec,
    JobContext,
    PollInput,
    StillRunning,
    Watching,
)
from bria_fleet.runtime.records import utcnow
from bria_fleet.settings import ApiSettings
from bria_fleet.sim.asgi_app import create_app
from bria_fleet.sim.config import SimConfig, TimingConfig
from tests.fakes import MemoryFacts

SIM_TOKEN = "in-process-token"
SIM_URL = "http://sim.test"


@asynccontextmanager
async def sim_api(backend: str = "engine", **timing: float) -> AsyncIterator[BriaApi]:
    """A client of a fresh, seeded simulator served in process (no socket, no subprocess)."""
    app = create_app(
        SimConfig(token=SIM_TOKEN, public_base_url=SIM_URL, timing=TimingConfig(**timing))
    )
    settings = ApiSettings.model_validate(
        {"BRIA_BACKEND": backend, "base_url": SIM_URL, "token": SecretStr(SIM_TOKEN)}
    )
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), timeout=10)
    policy = RetryPolicy(attempts=2, initial_seconds=0.01, max_seconds=0.02, budget_seconds=1)
    api = create_api(settings, client=client, throttle=Throttle(), policy=policy)
    try:
        yield api
    finally:
        await api.aclose()


@dataclass
class Job:
    """One job of ``logic`` in process, with what it reported and the facts it recorded."""

    logic: AnyLogic
    api: BriaApi
    facts: MemoryFacts = field(default_factory=MemoryFacts)
    reported: list[EventSpec] = field(default_factory=list)

    async def run(self, raw: bytes) -> tuple[Any, Completed | Watching]:
        """Parse and run ``raw`` as the job runner does; the request and the outcome."""
        request = self.logic.parse(raw)
        context = JobContext(
            api=self.api, job_id=request.job_id, report=self._report, facts=self.facts
        )
        return request, await self.logic.run(request, context)

    async def watch(
        self, request: Any, watching: Watching, *, polls: int = 200
    ) -> tuple[Completed, list[StillRunning]]:
        """Poll a started operation as the watcher does, until it completes (or raises)."""
        status, seen = watching.status, []
        started = utcnow()
        for _ in range(polls):
            poll = PollInput(
                api=self.api,
                request=request,
                target_id=watching.target_id,
                started_at=started,
                status=status,
                facts=self.facts,
            )
            result = await self.logic.watch_kinds[watching.kind].poll(poll)
            if isinstance(result, Completed):
                return result, seen
            seen.append(result)
            status = result.status
            await asyncio.sleep(0.02)
        raise AssertionError(f"{watching.kind} {watching.target_id} did not end in {polls} polls")

    async def _report(self, spec: EventSpec) -> None:
        self.reported.append(spec)
