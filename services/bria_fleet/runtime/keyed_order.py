"""Run work for one key at a time, in arrival order, while different keys run in parallel."""

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class KeyedSerializer:
    """Serialises work per key.

    Ordering contract: for one key, holders enter in the order they called :meth:`hold`
    (asyncio's lock wakes its waiters first in, first out). Keys with no holder and no waiter
    are forgotten, so memory stays proportional to the work in flight.
    """

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        """Wait for earlier holders of ``key``, then hold it for the body of the block."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
