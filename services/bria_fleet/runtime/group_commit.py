"""Group commit: jobs that finish close together share their acknowledged round trips."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from bria_fleet import tracing
from bria_fleet.runtime.outbox import Outbox, encode_headers
from bria_fleet.runtime.records import FinishedRecord, OutboundMessage


def _new_future() -> asyncio.Future[None]:
    return asyncio.get_running_loop().create_future()


@dataclass
class _Finish:
    record: FinishedRecord
    messages: Sequence[OutboundMessage]
    trace_headers: list[tuple[str, bytes]]
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class FinishGroups:
    """Writes jobs' finished records, then their messages, a group of jobs at a time.

    Every job that finishes while a group is being written joins the next group, which is
    written as soon as the previous one is acknowledged: one acknowledged round trip for
    all of its finished records, then one for all of its messages. Nothing waits for a
    group to fill, so a lone job pays what it paid before.

    Ordering contract: a job's messages are handed to the producer only after its finished
    record is acknowledged, so a redelivery re-emits them instead of calling the API again
    even if the process dies in between; one job's messages keep their order (as
    :meth:`Outbox.publish`); :meth:`finish` returns once both writes are acknowledged. A
    failed write fails every job of its group (each retries on its own); a record written
    again is harmless (the same key in a compacted topic).
    """

    def __init__(self, outbox: Outbox, topic: str) -> None:
        self._outbox = outbox
        self._topic = topic
        self._waiting: list[_Finish] = []
        self._writer: asyncio.Task[None] | None = None

    async def finish(self, record: FinishedRecord, messages: Sequence[OutboundMessage]) -> None:
        """Write ``record``, then ``messages``; return once both are acknowledged."""
        entry = _Finish(record, messages, encode_headers(tracing.carrier()))
        self._waiting.append(entry)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_groups(), name="finish-groups")
        # The group is written whether or not this caller waits for it to end.
        await asyncio.shield(entry.done)

    async def _write_groups(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                await self._outbox.put_many(self._topic, [entry.record for entry in group])
                await self._outbox.publish_traced(
                    [(entry.messages, entry.trace_headers) for entry in group]
                )
            except asyncio.CancelledError:
                for entry in group:
                    entry.done.cancel()
                raise
            except Exception as error:  # handed to every job of the group, which retries
                for entry in group:
                    if not entry.done.done():
                        entry.done.set_exception(error)
                continue
            for entry in group:
                if not entry.done.done():
                    entry.done.set_result(None)
