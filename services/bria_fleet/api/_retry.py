"""The in-process retry policy: attempts, exponential backoff with full jitter, a time budget."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

from bria_fleet.settings import ApiSettings

__all__ = ["Repeat", "RetryPolicy", "parse_retry_after"]


class Repeat(StrEnum):
    """When a POST may be sent again in process after a retriable failure.

    Reads (GET, and the idempotent PUT and DELETE) are always repeatable. A POST is repeated
    only as its class allows; the README's "Retries" table spells the policy out.
    """

    IF_NOT_DONE = "if_not_done"
    """Creates and uploads: repeated only when the API surely did nothing (connection never
    opened, 429, 503). Otherwise the error goes back to the job, whose logic looks first."""

    ALWAYS = "always"
    """Computations and training control: a repeat costs nothing extra, or the API refuses
    it itself (starting a training twice answers 409)."""

    GENERATION = "generation"
    """Paid generation: repeated only when the API surely did nothing; an answer that leaves
    the effect unknown ends the job with ``OutcomeUnknown`` instead of paying twice (unless
    ``BRIA_API_REPEAT_UNCERTAIN_GENERATIONS`` opts in)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How retriable failures are retried within one call.

    ``attempts`` bounds the tries (first one included); ``budget_seconds`` bounds the time
    from the first try to the start of the last (a wait that would cross it is not taken).
    """

    attempts: int = 4
    initial_seconds: float = 0.2
    max_seconds: float = 10.0
    budget_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> RetryPolicy:
        """The policy configured by ``BRIA_API_RETRY_*``."""
        return cls(
            attempts=settings.retry_attempts,
            initial_seconds=settings.retry_initial_seconds,
            max_seconds=settings.retry_max_seconds,
            budget_seconds=settings.retry_budget_seconds,
        )

    def backoff(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Full jitter: uniform in [0, min(max, initial * 2**(attempt-1))]."""
        ceiling = min(self.max_seconds, self.initial_seconds * 2.0 ** max(attempt - 1, 0))
        return rng() * ceiling


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), if valid."""
    if value is None:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if seconds == seconds else None  # NaN is not a wait
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
