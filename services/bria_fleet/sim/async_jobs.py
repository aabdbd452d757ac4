"""Asynchronous generation requests (v2 and Vision Studio): IN_PROGRESS, then a terminal status."""

from dataclasses import dataclass, field
from typing import Any

from bria_fleet.sim.clock import iso

GENERATION_FAILED = {
    "code": 500,
    "message": "Generation failed. Please try again.",
    "details": "The generation service could not produce a result for this request.",
}
"""A failed job's ``error``: ``code``, ``message`` and ``details``, all three, as the vendor's
SDK requires (it misreads a failed job without ``details`` as a success)."""


@dataclass
class Job:
    """One request; its status is ``IN_PROGRESS`` until ``done_at``, then fixed."""

    id: str
    kind: str
    created_at: float
    done_at: float
    fails: bool
    result: dict[str, Any] = field(default_factory=dict)

    def status_at(self, now: float) -> str:
        """``IN_PROGRESS``, ``COMPLETED`` or ``ERROR``."""
        if now < self.done_at:
            return "IN_PROGRESS"
        return "ERROR" if self.fails else "COMPLETED"

    def view(self, now: float) -> dict[str, Any]:
        """The status body: ``result`` once completed, ``error`` once failed."""
        status = self.status_at(now)
        return {
            "request_id": self.id,
            "status": status,
            "result": self.result if status == "COMPLETED" else None,
            "error": dict(GENERATION_FAILED) if status == "ERROR" else None,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.created_at if status == "IN_PROGRESS" else self.done_at),
        }


class JobStore:
    """Jobs by request id."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}

    def add(self, job: Job) -> Job:
        """Remember ``job``."""
        self._jobs[job.id] = job
        return job

    def get(self, request_id: str) -> Job | None:
        """The job, if known."""
        return self._jobs.get(request_id)

    def clear(self) -> None:
        """Forget every job."""
        self._jobs.clear()
