"""What a job has found and done so far: ids for its failure event, outcomes and progress."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from bria_fleet.runtime.outcomes import EventSpec, JobContext
from bria_fleet_contracts import (
    CompleteDatasetRequest,
    ImageFailure,
    IngestImagesRequest,
    IngestProgressData,
)
from bria_fleet_contracts.events.ingest import ImageOutcome

KNOWN_JOBS_LIMIT = 1024
"""Jobs whose ids are remembered for a failure event; the oldest are forgotten first."""


@dataclass
class Known:
    """The project and dataset a job works on, as far as it found them, and its uploads."""

    project_id: str | None = None
    dataset_id: str | None = None
    uploaded: int = 0

    @classmethod
    def of(cls, request: IngestImagesRequest | CompleteDatasetRequest) -> "Known":
        """What the request itself names."""
        return cls(project_id=getattr(request, "project_id", None), dataset_id=request.dataset_id)


class KnownJobs:
    """``Known`` per job id while a job runs, so that its failure event can say how far it got.

    The runtime asks for the failure data with the request alone, after ``run`` raised.
    """

    def __init__(self, limit: int = KNOWN_JOBS_LIMIT) -> None:
        self._jobs: dict[str, Known] = {}
        self._limit = limit

    def start(self, request: IngestImagesRequest) -> Known:
        """A fresh record for a job's (new) attempt."""
        self._jobs.pop(request.job_id, None)
        while len(self._jobs) >= self._limit:
            del self._jobs[next(iter(self._jobs))]
        known = self._jobs[request.job_id] = Known.of(request)
        return known

    def pop(self, job_id: str) -> Known | None:
        """Forget a job, returning what was known of it."""
        return self._jobs.pop(job_id, None)


class Tally:
    """Each image's outcome, the counts, and ``ingest.progress`` every ``progress_every``.

    Outcomes may be recorded concurrently; each progress event's discriminator is the
    number processed, so a redelivered job re-emits the same event ids.
    """

    def __init__(
        self, request: IngestImagesRequest, dataset_id: str, context: JobContext, known: Known
    ) -> None:
        self._every = request.progress_every
        self._dataset_id = dataset_id
        self._context = context
        self._known = known
        self._names: list[str] = []
        self._outcomes: dict[str, ImageOutcome] = {}
        self._failures: dict[str, ImageFailure] = {}
        self._lock = asyncio.Lock()
        self.uploaded = 0
        self.skipped = 0
        self.failed = 0

    def expect(self, names: Sequence[str]) -> None:
        """The job's image names, in the order the outcomes are reported."""
        self._names = list(names)

    @property
    def total(self) -> int:
        """How many images the job has."""
        return len(self._names)

    @property
    def processed(self) -> int:
        """How many images have an outcome."""
        return self.uploaded + self.skipped + self.failed

    async def record(
        self, outcome: ImageOutcome, failure: ImageFailure | None = None, *, report: bool = True
    ) -> None:
        """Record one image's outcome; publish progress when a multiple of the step is hit."""
        async with self._lock:
            self._outcomes[outcome.image_name] = outcome
            if outcome.outcome == "uploaded":
                self.uploaded += 1
                self._known.uploaded += 1
            elif outcome.outcome == "skipped":
                self.skipped += 1
            else:
                self.failed += 1
            if failure is not None:
                self._failures[failure.image_name] = failure
            if report and self.processed % self._every == 0:
                await self._context.report(
                    EventSpec("ingest.progress", self._progress(), str(self.processed))
                )

    def _progress(self) -> IngestProgressData:
        return IngestProgressData(
            project_id=self._known.project_id,
            dataset_id=self._dataset_id,
            total=self.total,
            processed=self.processed,
            uploaded=self.uploaded,
            skipped=self.skipped,
            failed=self.failed,
        )

    def outcomes(self) -> list[ImageOutcome]:
        """Every recorded outcome, in the job's order."""
        return [self._outcomes[name] for name in self._names if name in self._outcomes]

    def failures(self) -> list[ImageFailure]:
        """The rejected images with the API's reasons, in the job's order."""
        return [self._failures[name] for name in self._names if name in self._failures]

    def image_ids(self) -> dict[str, str]:
        """image_name -> image id of every image in the dataset (uploaded or skipped)."""
        return {o.image_name: o.image_id for o in self.outcomes() if o.image_id is not None}
