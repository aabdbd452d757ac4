"""Paid generations announced before they are sent, so a job's next owner can tell.

A worker killed while a generation call is in flight leaves no answer behind; the replica
that takes the job over cannot know whether the API ran it. The job runner therefore sets
an announcer for each job (``announcing_paid_calls``): the transport awaits it before every
``Repeat.GENERATION`` POST, the runner writes a durable *calling* marker there, and the
announcer of a later owner that finds such a marker answers that the call may already have
been sent, which the transport treats like any generation whose answer was lost.
"""

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

PaidCallAnnouncer = Callable[[], Awaitable[bool]]
"""Called before a paid generation is sent; returns whether an earlier attempt of the same
job may already have sent it."""

_announcer: ContextVar[PaidCallAnnouncer | None] = ContextVar("paid_call_announcer", default=None)


@contextmanager
def announcing_paid_calls(announcer: PaidCallAnnouncer) -> Iterator[None]:
    """Have every paid generation sent in this block (this task) announced first."""
    token = _announcer.set(announcer)
    try:
        yield
    finally:
        _announcer.reset(token)


async def announce_paid_call() -> bool:
    """Announce a paid generation about to be sent; whether it may have been sent before."""
    announcer = _announcer.get()
    return announcer is not None and await announcer()
