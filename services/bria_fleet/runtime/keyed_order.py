"""Run work for one key at a time, in the order places were taken, keys in parallel."""

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from types import TracebackType


class Turn:
    """A place in line for one key: ``async with turn:`` waits for it, then holds the key.

    Leaving the block, or :meth:`release` on a turn never entered, gives the key to the next
    place in line; releasing twice is harmless.
    """

    def __init__(self, serializer: "KeyedSerializer", key: Hashable) -> None:
        self._serializer = serializer
        self._key = key
        self._ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._released = False

    async def __aenter__(self) -> "Turn":
        await asyncio.shield(self._ready)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    def release(self) -> None:
        """Give the key to the next place in line."""
        if not self._released:
            self._released = True
            self._serializer._release(self._key, self)


class KeyedSerializer:
    """Serialises work per key.

    Ordering contract: for one key, turns are granted in the order :meth:`reserve` was
    called, whatever order their holders then reach ``async with``. Reserve synchronously
    where the order is still known (at dispatch), wait later. Keys with no turn are
    forgotten, so memory stays proportional to the work in flight.
    """

    def __init__(self) -> None:
        self._lines: dict[Hashable, deque[Turn]] = {}

    def reserve(self, key: Hashable) -> Turn:
        """Take the next place in line for ``key``, without waiting."""
        turn = Turn(self, key)
        line = self._lines.setdefault(key, deque())
        line.append(turn)
        if len(line) == 1:
            turn._ready.set_result(None)
        return turn

    @asynccontextmanager
    async def hold(self, key: Hashable) -> AsyncIterator[None]:
        """Take a place in line for ``key`` now and hold the key for the body of the block."""
        async with self.reserve(key):
            yield

    def _release(self, key: Hashable, turn: Turn) -> None:
        line = self._lines[key]
        was_first = line[0] is turn
        line.remove(turn)
        if not line:
            del self._lines[key]
        elif was_first:
            line[0]._ready.set_result(None)

    def __len__(self) -> int:
        return len(self._lines)
