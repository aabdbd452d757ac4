"""Whether every partition this process consumes is making progress, for ``/healthz``.

A partition makes progress when its oldest delivery in flight finishes: its committed offset
can then move on. One whose oldest delivery has been in flight longer than any job may take
(``WorkerSettings.stuck_after``) is stuck, and an orchestrator should restart the worker.
Receiving a delivery is one dictionary insert and finishing it one delete; partitions are
looked at only when ``/healthz`` is asked.
"""

import itertools
import time
from collections.abc import Callable

Partition = tuple[str, int]


class PartitionProgress:
    """Deliveries in flight per partition, in arrival (offset) order."""

    def __init__(self, stuck_after: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stuck_after = stuck_after
        self._clock = clock
        self._in_flight: dict[Partition, dict[int, tuple[int, float]]] = {}
        self._tokens = itertools.count()

    def started(self, topic: str, partition: int, offset: int) -> tuple[Partition, int]:
        """Note a delivery's arrival; returns the token to pass to :meth:`finished`."""
        token = next(self._tokens)
        key = (topic, partition)
        self._in_flight.setdefault(key, {})[token] = (offset, self._clock())
        return key, token

    def finished(self, token: tuple[Partition, int]) -> None:
        """The delivery with ``token`` is done (whatever its outcome) or handed back."""
        key, number = token
        deliveries = self._in_flight.get(key)
        if deliveries is None:
            return
        deliveries.pop(number, None)
        if not deliveries:
            del self._in_flight[key]

    def stuck(self) -> str | None:
        """The first partition found making no progress, as a reason; ``None`` if all are."""
        now = self._clock()
        for (topic, partition), deliveries in list(self._in_flight.items()):
            for offset, since in deliveries.values():
                age = now - since
                if age > self.stuck_after:
                    return (
                        f"partition {topic}-{partition} has made no progress for {age:.0f} s"
                        f" (offset {offset} in flight; the limit is {self.stuck_after:.0f} s)"
                    )
                break
        return None
