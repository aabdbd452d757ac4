"""Consumer lag per owned partition, sampled off the consume path (issue 11).

Lag is aiokafka's ``highwater - position`` for every partition of the requests and retry
topics this process owns: records in Kafka not yet fetched by us. Both figures are kept by
the consumer itself, so a sample costs no broker round-trip; it runs in its own task every
few seconds, and nothing is added to the handling of a record.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import IllegalStateError

from bria_fleet import metrics

logger = logging.getLogger(__name__)

ConsumerSource = Callable[[], AIOKafkaConsumer | None]


class LagSampler:
    """Keeps ``bria_fleet_consumer_lag{domain,topic,partition}`` current for one consumer.

    ``consumer`` returns the consumer once it exists (faststream creates it when the broker
    starts), else ``None``. Partitions no longer owned lose their series.
    """

    def __init__(self, domain: str, consumer: ConsumerSource, interval: float = 5.0) -> None:
        self._domain = domain
        self._consumer = consumer
        self._interval = interval
        self._reported: set[tuple[str, int]] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Sample every ``interval`` seconds from now on."""
        self._task = asyncio.create_task(self._run(), name=f"lag-sampler-{self._domain}")

    async def stop(self) -> None:
        """Stop sampling and drop this process's lag series."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._forget(set())

    async def _run(self) -> None:
        while True:
            try:
                await self.sample()
            except Exception:  # a sampling bug must never stop the worker
                logger.exception("sampling the consumer lag failed")
            await asyncio.sleep(self._interval)

    async def sample(self) -> None:
        """Set the gauge for every partition owned now."""
        consumer = self._consumer()
        owned: set[tuple[str, int]] = set()
        if consumer is not None:
            for tp in list(consumer.assignment()):
                lag = await _lag(consumer, tp)
                if lag is None:
                    continue
                owned.add((tp.topic, tp.partition))
                metrics.CONSUMER_LAG.labels(self._domain, tp.topic, str(tp.partition)).set(lag)
        self._forget(owned)

    def _forget(self, owned: set[tuple[str, int]]) -> None:
        for topic, partition in self._reported - owned:
            with contextlib.suppress(KeyError):
                metrics.CONSUMER_LAG.remove(self._domain, topic, str(partition))
        self._reported = owned


async def _lag(consumer: AIOKafkaConsumer, tp: TopicPartition) -> int | None:
    """``highwater - position``, or ``None`` before the first fetch or once unassigned."""
    try:
        highwater = consumer.highwater(tp)
        if highwater is None:
            return None
        # Immediate once the partition has a position; bounded while it is being reset.
        position = await asyncio.wait_for(consumer.position(tp), timeout=1.0)
    except (IllegalStateError, AssertionError, TimeoutError):
        return None
    return max(0, int(highwater) - int(position))
