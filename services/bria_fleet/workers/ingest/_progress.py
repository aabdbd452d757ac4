"""What a job has found and done so far: ids for its failure event, outcomes and progress."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import JsonValue

from bria_fleet.runtime.outcomes import EventSpec, Facts, JobContext
from bria_fleet_contracts import (
    CompleteDatasetRequest,
    ImageFailure,
    IngestImagesRequest,
    IngestProgressData,
)
from bria_fleet_contracts.events.ingest import ImageOutcome

KNOWN_JOBS_LIMIT = 1024
"""Jobs whose ids are remembered for a failure event; the oldest are forgotten first."""


def uploads_fact(job_id: str) -> str:
    """The name of the fact listing the images a job uploaded, over all its attempts."""
    return f"ingest-uploads:{job_id}"


async def earlier_uploads(facts: Facts, job_id: str) -> set[str]:
    """The names of the images earlier attempts of ``job_id`` uploaded (on any replica)."""
    fact = await facts.get(uploads_fact(job_id))
    names = fact.get("image_names") if fact is not None else None
    return {name for name in names if isinstance(name, str)} if isinstance(names, list) else set()


@dataclass
class Known:
    """The project and dataset a job works on, as far as it found them, and its uploads.

    ``uploaded_names`` counts every attempt of the job: an image an earlier attempt
    uploaded is reported as uploaded, not as skipped.
    """

    project_id: str | None = None
    dataset_id: str | None = None
    uploaded_names: set[str] = field(default_factory=set)

    @property
    def uploaded(self) -> int:
        """How many images the job uploaded, over all its attempts."""
        return len(self.uploaded_names)

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

    def start(self, request: IngestImagesRequest, uploaded: set[str]) -> Known:
        """A fresh record for a job's (new) attempt; ``uploaded`` by earlier attempts."""
        self._jobs.pop(request.job_id, None)
        while len(self._jobs) >= self._limit:
            del self._jobs[next(iter(self._jobs))]
        known = self._jobs[request.job_id] = Known.of(request)
        known.uploaded_names |= uploaded
        return known

    def pop(self, job_id: str) -> Known | None:
        """Forget a job, returning what was known of it."""
        return self._jobs.pop(job_id, None)


class Tally:
    """Each image's outcome, the counts, and ``ingest.progress`` every ``progress_every``.

    Outcomes may be recorded concurrently; each progress event's discriminator is the
    number processed, so a redelivered job re-emits the same event ids. Every upload is
    recorded as a fact before its outcome counts, so a later attempt (after a crash, on any
    replica) reports it as uploaded rather than skipped.
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
        self._unsaved = False
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
            name = outcome.image_name
            if outcome.outcome == "skipped" and name in self._known.uploaded_names:
                outcome = outcome.model_copy(update={"outcome": "uploaded"})
            self._outcomes[name] = outcome
            if outcome.outcome == "uploaded":
                if name not in self._known.uploaded_names:
                    self._known.uploaded_names.add(name)
                    self._unsaved = True
                    if report:
                        await self._save()
                self.uploaded += 1
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

    async def save(self) -> None:
        """Record the uploads not yet recorded (after outcomes recorded with ``report=False``)."""
        async with self._lock:
            await self._save()

    async def _save(self) -> None:
        if self._unsaved:
            names: list[JsonValue] = []
            names.extend(sorted(self._known.uploaded_names))
            await self._context.facts.put(
                uploads_fact(self._context.job_id), {"image_names": names}
            )
            self._unsaved = False

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
