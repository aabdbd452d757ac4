"""Ingest: bring images into a dataset, finding or creating its project and dataset first.

Redelivery-safe by construction: projects and datasets are found by name before being
created, the dataset's images are listed once and every ``image_name`` already there is
skipped, and completing a completed dataset is a success.
"""

from typing import Literal

from pydantic import JsonValue

from bria_fleet.api import BriaApi, Dataset, DatasetImage, DatasetStatus
from bria_fleet.runtime.outcomes import Completed, EventData, EventSpec, JobContext, LogicBase
from bria_fleet.workers.ingest._bulk import ingest_zip
from bria_fleet.workers.ingest._datasets import ensure_completed, resolve_dataset
from bria_fleet.workers.ingest._progress import Known, KnownJobs, Tally, earlier_uploads
from bria_fleet.workers.ingest._uploads import upload_images
from bria_fleet_contracts import (
    CompleteDatasetRequest,
    IngestCompletedData,
    IngestImagesRequest,
)

__all__ = ["IngestLogic", "complete_dataset", "completed", "ingest_images"]

IngestRequest = IngestImagesRequest | CompleteDatasetRequest


def _status(dataset: Dataset) -> Literal["draft", "completed"]:
    return "completed" if dataset.status is DatasetStatus.COMPLETED else "draft"


def completed(data: IngestCompletedData) -> Completed:
    """The terminal event; its ids (``{project_id}``, ``{dataset_id}``) fill follow-ups."""
    return Completed(EventSpec("ingest.completed", data), values=data.placeholders())


async def ingest_images(
    client: BriaApi, request: IngestImagesRequest, context: JobContext, known: Known
) -> Completed:
    """Find or create the project and dataset, upload what is missing, complete if asked."""
    dataset, created = await resolve_dataset(client, request, known)
    existing = {} if created else await _images_by_name(client, dataset.id)
    tally = Tally(request, dataset.id, context, known)
    if request.bulk_zip_url is not None:
        await ingest_zip(client, request.bulk_zip_url, dataset, existing, tally)
    else:
        await upload_images(client, request, dataset, existing, tally)
    if request.complete_dataset:
        dataset = await ensure_completed(client, dataset)
    data = IngestCompletedData(
        op=request.op,
        project_id=known.project_id,
        dataset_id=dataset.id,
        dataset_status=_status(dataset),
        total=tally.total,
        uploaded=tally.uploaded,
        skipped=tally.skipped,
        failed_images=tally.failures(),
        image_ids=tally.image_ids(),
        images=tally.outcomes(),
    )
    return completed(data)


async def _images_by_name(client: BriaApi, dataset_id: str) -> dict[str | None, DatasetImage]:
    return {image.image_name: image for image in await client.list_images(dataset_id)}


async def complete_dataset(client: BriaApi, request: CompleteDatasetRequest) -> Completed:
    """Mark a dataset completed; one that already is counts as done."""
    dataset = await ensure_completed(client, await client.get_dataset(request.dataset_id))
    data = IngestCompletedData(
        op=request.op,
        project_id=dataset.project_id,
        dataset_id=dataset.id,
        dataset_status=_status(dataset),
        total=0,
        uploaded=0,
        skipped=0,
    )
    return completed(data)


class IngestLogic(LogicBase[IngestRequest]):
    """The ingest domain: every job finishes within its request; nothing is watched."""

    domain = "ingest"

    def __init__(self) -> None:
        super().__init__()
        self._known = KnownJobs()

    def failure_data(self, request: IngestRequest) -> EventData:
        """The op, the project and dataset ids as far as the job found them, uploads made."""
        known = self._known.pop(request.job_id) or Known.of(request)
        data: dict[str, JsonValue] = {"op": request.op, "uploaded": known.uploaded}
        if known.project_id is not None:
            data["project_id"] = known.project_id
        if known.dataset_id is not None:
            data["dataset_id"] = known.dataset_id
        return data

    async def run(self, request: IngestRequest, context: JobContext) -> Completed:
        """Do the job; API errors propagate for the runtime to retry or fail the job."""
        if isinstance(request, CompleteDatasetRequest):
            return await complete_dataset(context.api, request)
        known = self._known.start(request, await earlier_uploads(context.facts, request.job_id))
        outcome = await ingest_images(context.api, request, context, known)
        self._known.pop(request.job_id)
        return outcome
