"""The per-process request budget and the shared back-off, used by every API call."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable

from aiolimiter import AsyncLimiter

from bria_fleet.metrics import API_HELD_BACK

__all__ = ["MAX_RELEASE_SPREAD_SECONDS", "Throttle", "shared_throttle"]

MAX_RELEASE_SPREAD_SECONDS = 5.0
"""Requests held back are released spread over up to this long (at most the hold itself)."""


class Throttle:
    """Admits requests at most ``requests_per_second`` (0: unlimited) and holds them all
    while the API has asked one caller to back off (a 429, or any ``Retry-After``).

    Held requests are released spread at random over a window as long as the hold (at most
    :data:`MAX_RELEASE_SPREAD_SECONDS`), and each looks again before it goes: when the first
    ones meet a new ``Retry-After`` the rest keep waiting, so an outage sees a trickle of
    probes, not the whole backlog at once.
    """

    def __init__(
        self,
        requests_per_second: float = 0.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.requests_per_second = requests_per_second
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._resume_at = 0.0
        self._limiter: AsyncLimiter | None = None
        self._limiter_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"Throttle(requests_per_second={self.requests_per_second})"

    @property
    def backing_off_for(self) -> float:
        """Seconds until requests are admitted again after a 429 (0 when not backing off)."""
        return max(self._resume_at - self._clock(), 0.0)

    def back_off(self, seconds: float) -> None:
        """Hold every request for ``seconds`` from now (never shortens a longer hold)."""
        self._resume_at = max(self._resume_at, self._clock() + seconds)

    async def acquire(self) -> None:
        """Wait until a request may be sent."""
        held = False
        while (delay := self.backing_off_for) > 0:
            if not held:
                held = True
                API_HELD_BACK.inc()
            spread = min(delay, MAX_RELEASE_SPREAD_SECONDS) * self._rng()
            await self._sleep(delay + spread)
        limiter = self._current_limiter()
        if limiter is not None:
            await limiter.acquire()

    def _current_limiter(self) -> AsyncLimiter | None:
        if self.requests_per_second <= 0:
            return None
        loop = asyncio.get_running_loop()
        if self._limiter is None or self._limiter_loop is not loop:
            rate = self.requests_per_second
            # AsyncLimiter cannot admit one request when max_rate < 1: widen the period.
            self._limiter = AsyncLimiter(rate, 1.0) if rate >= 1 else AsyncLimiter(1, 1.0 / rate)
            self._limiter_loop = loop
        return self._limiter


_SHARED: dict[float, Throttle] = {}


def shared_throttle(requests_per_second: float) -> Throttle:
    """The process-wide throttle for this budget, so every client in the process shares it."""
    throttle = _SHARED.get(requests_per_second)
    if throttle is None:
        throttle = _SHARED[requests_per_second] = Throttle(requests_per_second)
    return throttle
