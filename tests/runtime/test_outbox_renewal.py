"""A producer that failed for good is replaced, so a retried write can succeed.

Found by the reliability suite's broker restart: after ``OutOfOrderSequenceNumber`` an
idempotent aiokafka producer fails every later send too, and the journal retried for ever.
"""

from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError, OutOfOrderSequenceNumber

from bria_fleet.runtime.outbox import Outbox


class FakeProducer:
    """Records what it sent; fails every send with ``error`` when one is given."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.sent: list[tuple[str, bytes | None]] = []
        self.stopped = False

    async def send_and_wait(self, topic: str, **kwargs: Any) -> None:
        if self.error is not None:
            raise self.error
        self.sent.append((topic, kwargs.get("value")))

    async def stop(self) -> None:
        self.stopped = True


async def test_a_producer_that_failed_for_good_is_replaced_and_the_next_write_lands() -> None:
    broken, fresh = FakeProducer(OutOfOrderSequenceNumber()), FakeProducer()
    made = iter([broken, fresh])

    async def factory() -> Any:
        return next(made)

    outbox = await Outbox.start(factory)
    with pytest.raises(OutOfOrderSequenceNumber):
        await outbox.forward("bria.generation.requests.retry", b"k", b"v", {})
    await outbox.forward("bria.generation.requests.retry", b"k", b"v", {})

    assert broken.stopped
    assert fresh.sent == [("bria.generation.requests.retry", b"v")]


async def test_a_passing_error_keeps_the_producer() -> None:
    flaky = FakeProducer(KafkaConnectionError())
    made = [flaky]

    async def factory() -> Any:
        return made.pop()

    outbox = await Outbox.start(factory)
    with pytest.raises(KafkaConnectionError):
        await outbox.forward("bria.generation.requests.retry", b"k", b"v", {})
    flaky.error = None
    await outbox.forward("bria.generation.requests.retry", b"k", b"v", {})

    assert not flaky.stopped
    assert flaky.sent == [("bria.generation.requests.retry", b"v")]
