"""Per-key order of requests: one key at a time, in partition order, keys in parallel.

Everything the worker's ordering depends on is here: a ``KeyedSerializer`` of turns, and
``RecordTurns``, which reserves each consumed record's turn while records still come one
by one in offset order, through ``RecordTurns.middleware``. That middleware must sit
*outside* (be added before) ``KafkaConcurrentProcessingMiddleware``, which turns each record
into a task that may run in any order; the job runner then waits for the reserved turn.
``runtime.app.request_middlewares`` assembles them, and a test fails if the order changes.
"""

import asyncio
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from functools import partial
from types import TracebackType
from typing import Any, cast

from aiokafka import ConsumerRecord
from faststream import BaseMiddleware, ContextRepo


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


Position = tuple[str, int, int]


class RecordTurns:
    """Turns of consumed records: reserved at dispatch, taken by the handler.

    Records of one topic with one key share a line; a record without a key is keyed by its
    own position, so it never waits for another.
    """

    def __init__(self) -> None:
        self._order = KeyedSerializer()
        self._reserved: dict[Position, deque[Turn]] = defaultdict(deque)

    def reserve(self, record: ConsumerRecord) -> None:
        """Take ``record``'s place in line among the records of its key (in its topic)."""
        position = (record.topic, record.partition, record.offset)
        key = (record.topic, record.key) if record.key is not None else position
        self._reserved[position].append(self._order.reserve(key))

    def take(self, record: ConsumerRecord) -> Turn:
        """The turn reserved for ``record`` (a fresh one if it was not dispatched through
        :attr:`middleware`, as with a test broker)."""
        position = (record.topic, record.partition, record.offset)
        turns = self._reserved.get(position)
        if not turns:
            return self._order.reserve(position)
        turn = turns.popleft()
        if not turns:
            del self._reserved[position]
        return turn

    @property
    def middleware(self) -> Callable[..., BaseMiddleware]:
        """The faststream middleware reserving turns; add it before the concurrency one."""
        return partial(_ReserveTurns, turns=self)


class _ReserveTurns(BaseMiddleware):
    """Reserves each record's turn in the consume loop, before it becomes a task.

    The concurrency middleware tolerates this one outside it because it ignores the early
    return of ``call_next``.
    """

    def __init__(self, msg: Any, /, *, context: ContextRepo, turns: RecordTurns) -> None:
        super().__init__(msg, context=context)
        self._turns = turns

    async def consume_scope(self, call_next: Callable[[Any], Awaitable[Any]], msg: Any) -> Any:
        self._turns.reserve(cast(ConsumerRecord, self.msg))
        return await call_next(msg)
