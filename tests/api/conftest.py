"""Helpers for the client's unit tests: a mock API, a fake clock, fresh settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bria_fleet.api import BriaApi, RetryPolicy, Throttle, create_api
from bria_fleet.settings import ApiSettings
from bria_fleet.sim import SimServer
from tests.api.sim_support import SimAdmin, sim_api

TOKEN = "tok-SECRET-1234567890"
BASE_URL = "https://bria.test"

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if seconds > 0:  # a zero sleep only yields; it is no wait
            self.sleeps.append(seconds)
            self.now += seconds


class Recorder:
    """A MockTransport handler that answers from a queue and records every request."""

    def __init__(self, *answers: httpx.Response | Exception | Handler) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


def settings(backend: str = "engine", **overrides: Any) -> ApiSettings:
    """Settings for tests, independent of the environment."""
    values: dict[str, Any] = {
        "BRIA_BACKEND": backend,
        "base_url": BASE_URL,
        "token": SecretStr(TOKEN),
        "retry_attempts": 4,
        "retry_initial_seconds": 0.5,
        "retry_max_seconds": 8.0,
        "retry_budget_seconds": 30.0,
    }
    values.update(overrides)
    return ApiSettings.model_validate(values)


def make_api(
    recorder: Recorder,
    *,
    backend: str = "engine",
    clock: FakeClock | None = None,
    throttle: Throttle | None = None,
    policy: RetryPolicy | None = None,
    **overrides: Any,
) -> BriaApi:
    """A client over ``recorder`` with a fake clock (nothing really sleeps)."""
    clock = clock or FakeClock()
    return create_api(
        settings(backend, **overrides),
        client=httpx.AsyncClient(transport=httpx.MockTransport(recorder)),
        # No release spread by default, so waits are exact; tests of the spread pass their own.
        throttle=throttle or Throttle(clock=clock, sleep=clock.sleep, rng=lambda: 0.0),
        policy=policy,
        sleep=clock.sleep,
        clock=clock,
    )


def json_response(status: int, body: Any = None, **headers: str) -> httpx.Response:
    """A response with a JSON body."""
    return httpx.Response(status, json=body, headers=headers)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# Over real HTTP, against the simulator -------------------------------------------------


@pytest.fixture
def admin(sim: SimServer) -> Iterator[SimAdmin]:
    """The simulator's admin routes (``sim`` resets it before the test, this after)."""
    admin = SimAdmin(sim.base_url)
    yield admin
    admin.reset()


@pytest.fixture
async def engine(sim: SimServer, admin: SimAdmin) -> AsyncIterator[BriaApi]:
    """An engine client of the simulator."""
    async with sim_api(sim.base_url, sim.token, "engine") as api:
        yield api


@pytest.fixture
async def studio(sim: SimServer, admin: SimAdmin) -> AsyncIterator[BriaApi]:
    """A Vision Studio client of the simulator."""
    async with sim_api(sim.base_url, sim.token, "vision-studio") as api:
        yield api


@pytest.fixture(params=["engine", "vision-studio"])
async def either(
    request: pytest.FixtureRequest, sim: SimServer, admin: SimAdmin
) -> AsyncIterator[BriaApi]:
    """A client of the simulator, once per backend."""
    async with sim_api(sim.base_url, sim.token, request.param) as api:
        yield api
