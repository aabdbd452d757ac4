"""What happens to a request whose job failed in a way that may pass: retry later, or give up.

Past the in-process retries of the API client, a retriable failure sends the request to the
domain's ``.retry`` topic with a due time and an attempt count; past the last attempt, to
``.dlq`` (docs/architecture.md §3). The job runner asks this policy and writes what it says.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bria_fleet_contracts import ErrorInfo, headers


@dataclass(frozen=True)
class RetryLater:
    """Send the request to the retry topic with these headers added."""

    headers: Mapping[str, str]


@dataclass(frozen=True)
class GiveUp:
    """Dead-letter the request with this code and reason, and fail its job."""

    code: str
    reason: str


@dataclass(frozen=True)
class RetryPolicy:
    """The delays before each retry; ``len(delays)`` retries, then the dead-letter topic.

    A ``Retry-After`` longer than ``retry_after_cap`` holds the retry back only that long
    (the process-wide hold of the API client still keeps calls back until it passes), so
    every due time written lies at most ``max(max(delays), retry_after_cap)`` ahead.
    """

    delays: Sequence[float]
    retry_after_cap: float = math.inf

    def decide(
        self,
        attempt: int,
        error: ErrorInfo,
        now: datetime | None = None,
        *,
        not_before: float = 0.0,
    ) -> RetryLater | GiveUp:
        """What to do after attempt number ``attempt`` (0 for the first) failed with ``error``.

        ``not_before`` is a wait the API asked for (``Retry-After``, seconds): the retry is
        due after the configured delay or after it, whichever is later.
        """
        if attempt < len(self.delays):
            delay = max(self.delays[attempt], min(not_before, self.retry_after_cap))
            due_at = (now or datetime.now(UTC)) + timedelta(seconds=delay)
            return RetryLater(
                {
                    headers.ATTEMPT: str(attempt + 1),
                    headers.DUE_AT: due_at.isoformat(),
                    headers.ERROR: error.message,
                    headers.ERROR_CODE: error.code,
                }
            )
        return GiveUp(error.code, f"gave up after {attempt + 1} attempts: {error.message}")


def dead_letter_headers(
    code: str, reason: str, topic: str, partition: int, offset: int
) -> dict[str, str]:
    """The headers a dead-lettered request carries: why, and where it came from."""
    return {
        headers.ERROR: reason,
        headers.ERROR_CODE: code,
        headers.SOURCE_TOPIC: topic,
        headers.SOURCE_PARTITION: str(partition),
        headers.SOURCE_OFFSET: str(offset),
    }
