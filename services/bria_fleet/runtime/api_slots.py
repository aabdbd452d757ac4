"""``WORKER_CONCURRENCY``: how many jobs of a worker may be calling the API at once."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType


class ApiSlots:
    """At most ``limit`` jobs hold an API slot at a time; the others wait their turn."""

    def __init__(self, limit: int) -> None:
        self._semaphore = asyncio.Semaphore(limit)

    def take(self) -> "ApiSlot":
        """One job's slot, to be held with ``async with``."""
        return ApiSlot(self._semaphore)


class ApiSlot:
    """One job's claim on an API slot, which it can set aside while it waits for Kafka."""

    def __init__(self, semaphore: asyncio.Semaphore) -> None:
        self._semaphore = semaphore
        self._held = False

    async def __aenter__(self) -> "ApiSlot":
        await self._semaphore.acquire()
        self._held = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._give_up()

    @asynccontextmanager
    async def set_aside(self) -> AsyncIterator[None]:
        """Let another job call the API during this block; take a slot again after it.

        Taking it again waits behind the jobs already waiting for one.
        """
        self._give_up()
        try:
            yield
        finally:
            await self._semaphore.acquire()
            self._held = True

    def _give_up(self) -> None:
        if self._held:
            self._held = False
            self._semaphore.release()
