"""The age of the oldest job this process received and has not finished (issue 11).

Receiving a job is one dictionary insert and finishing it one delete; the age is computed
only when ``/metrics`` is scraped. Jobs are inserted in arrival order, so the first entry
left in the dictionary is the oldest.
"""

import itertools
import time

from bria_fleet import metrics


class Backlog:
    """Jobs received and not yet finished, for ``bria_fleet_oldest_job_age_seconds``."""

    def __init__(self, domain: str) -> None:
        self._received: dict[int, float] = {}
        self._ids = itertools.count()
        metrics.OLDEST_JOB_AGE.labels(domain).set_function(self.oldest_age)

    def received(self) -> int:
        """Note a job's arrival; returns the token to pass to :meth:`finished`."""
        token = next(self._ids)
        self._received[token] = time.monotonic()
        return token

    def finished(self, token: int) -> None:
        """The job with ``token`` is done (whatever its outcome) or handed back."""
        self._received.pop(token, None)

    def oldest_age(self) -> float:
        """Seconds since the oldest unfinished job arrived; 0 when there is none."""
        for arrived in self._received.values():
            return time.monotonic() - arrived
        return 0.0
