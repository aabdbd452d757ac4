"""The root of every error the fleet raises on purpose."""

from datetime import datetime


class BriaFleetError(Exception):
    """An error whose message is meant for the person running the fleet.

    The command line prints ``str(error)`` as one sentence instead of a traceback, so the
    message should say what went wrong and, where there is one, what fixes it.
    """


class FailureError(BriaFleetError):
    """Why a job cannot succeed: the base of API errors and of domain logic's own failures.

    ``code`` is stable (events, dashboards), ``retriable`` says whether trying the job again
    later may succeed, ``http_status`` is the API's answer if there was one. ``event_type``
    names the failure event when it is not ``<domain>.failed`` (e.g. ``training.stopped``);
    ``completed_at`` is when the API says the operation ended, if it says.
    """

    code: str
    message: str
    retriable: bool
    http_status: int | None
    event_type: str | None
    completed_at: datetime | None

    def __init__(
        self,
        message: str,
        *,
        code: str = "failed",
        retriable: bool = False,
        http_status: int | None = None,
        event_type: str | None = None,
        completed_at: datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.retriable = retriable
        self.http_status = http_status
        self.event_type = event_type
        self.completed_at = completed_at
