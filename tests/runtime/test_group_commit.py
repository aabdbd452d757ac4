"""Group commit of finished jobs: shared writes, and the finished record first for every job."""

import asyncio
from typing import Any, cast

from aiokafka.errors import KafkaTimeoutError

from bria_fleet.runtime.journal import Journal
from bria_fleet.runtime.outbox import Outbox
from bria_fleet.runtime.records import OutboundMessage

OPERATIONS = "bria.generation.operations"
EVENTS = "bria.generation.events"


class HeldProducer:
    """A producer whose acknowledgements come only when the test releases them."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []  # (topic, key) in the order handed over
        self.unacked: list[asyncio.Future[None]] = []
        self.fail_next = 0

    async def send(self, topic: str, key: bytes, value: bytes | None, **_: Any) -> Any:
        self.sent.append((topic, key.decode()))
        ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.fail_next:
            self.fail_next -= 1
            ack.set_exception(KafkaTimeoutError())
        self.unacked.append(ack)
        return ack

    async def ack_all(self) -> None:
        """Acknowledge everything sent so far, and let the writers move on."""
        for ack in self.unacked:
            if not ack.done():
                ack.set_result(None)
        self.unacked.clear()
        for _ in range(5):
            await asyncio.sleep(0)


def _event(job_id: str) -> OutboundMessage:
    return OutboundMessage(topic=EVENTS, key=job_id, value={"type": "generation.completed"})


async def test_jobs_finishing_together_share_writes_and_each_record_precedes_its_event() -> None:
    producer = HeldProducer()
    journal = Journal("generation", Outbox(cast(Any, producer)))
    first = asyncio.create_task(journal.finish("a", [_event("a")]))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    # While a's record waits for its acknowledgement, b and c finish: they wait for it too.
    later = [asyncio.create_task(journal.finish(job, [_event(job)])) for job in ("b", "c")]
    await asyncio.sleep(0)
    assert producer.sent == [(OPERATIONS, "job:a")]
    while not all(task.done() for task in [first, *later]):
        await producer.ack_all()
    assert producer.sent == [
        (OPERATIONS, "job:a"),
        (EVENTS, "a"),
        (OPERATIONS, "job:b"),  # b and c: one write for both records, then one for both events
        (OPERATIONS, "job:c"),
        (EVENTS, "b"),
        (EVENTS, "c"),
    ]


async def test_a_failed_group_write_is_retried_until_every_job_is_recorded_then_published() -> None:
    producer = HeldProducer()
    producer.fail_next = 1  # a's finished record is refused once
    journal = Journal("generation", Outbox(cast(Any, producer)))
    tasks = [asyncio.create_task(journal.finish(job, [_event(job)])) for job in ("a", "b")]
    async with asyncio.timeout(10):
        while not all(task.done() for task in tasks):
            await producer.ack_all()
            await asyncio.sleep(0.01)
    for task in tasks:
        task.result()
    for job in ("a", "b"):
        record, event = (
            producer.sent.index((OPERATIONS, f"job:{job}")),
            producer.sent.index((EVENTS, job)),
        )
        assert record < event
    # The refused group published nothing: its events went out only after the records.
    assert producer.sent[:2] == [(OPERATIONS, "job:a"), (OPERATIONS, "job:b")]
