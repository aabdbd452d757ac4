"""The simulator's clock: wall time plus an offset that tests can move forward."""

import time
from datetime import UTC, datetime


class Clock:
    """Seconds since the epoch, shifted by ``offset`` (never goes backwards on ``advance``)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        """The simulated current time."""
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.offset += seconds


def iso(epoch: float) -> str:
    """``2024-05-26T12:00:00.123Z``: the documents' timestamp form, to the millisecond."""
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
