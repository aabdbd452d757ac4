"""Upload a job's images one by one (bounded concurrency), skipping those already there."""

import asyncio
from collections.abc import Mapping

from bria_fleet import api
from bria_fleet.api import ApiStatusError, BriaApi, Dataset, DatasetStatus
from bria_fleet.runtime.outcomes import JobError
from bria_fleet.workers.ingest._progress import Tally
from bria_fleet_contracts import ImageFailure, IngestImagesRequest
from bria_fleet_contracts.events.ingest import ImageOutcome
from bria_fleet_contracts.ingest import DatasetImage

UPLOAD_CONCURRENCY = 4
"""Uploads in flight per job (the API client's budget bounds the process as a whole)."""

REJECTED_STATUSES = frozenset({400, 403, 412, 413, 415, 422})
"""Statuses that reject one image (size, type, unreadable URL) rather than the whole job.

401, 404 and 409 concern the token or the dataset (gone, completed, full), so they fail the
job; retriable errors fail it retriably, and the retry skips what is already uploaded.
"""


def skipped(image: api.DatasetImage) -> ImageOutcome:
    """The outcome of an image already in the dataset."""
    assert image.image_name is not None
    return ImageOutcome(
        image_name=image.image_name, outcome="skipped", image_id=image.id, caption=image.caption
    )


def refuse_if_completed(dataset: Dataset, missing: int) -> None:
    """Fail clearly, before any upload, when the images cannot go into a completed dataset."""
    if dataset.status is DatasetStatus.COMPLETED:
        raise JobError(
            "dataset_completed",
            f"dataset {dataset.id} is completed and accepts no uploads, "
            f"but {missing} of the job's images are not in it",
        )


async def upload_one(
    client: BriaApi, dataset_id: str, image: DatasetImage, content_moderation: bool | None
) -> tuple[ImageOutcome, ImageFailure | None]:
    """Upload one image; a rejection of that image is an outcome, not an error."""
    source = api.ImageSource(url=image.url, base64=image.base64)
    try:
        uploaded = await client.upload_image(
            dataset_id, source, image_name=image.image_name, content_moderation=content_moderation
        )
    except ApiStatusError as error:
        if error.retriable or error.http_status not in REJECTED_STATUSES:
            raise
        failure = ImageFailure(
            image_name=image.image_name, code=error.code, message=error.api_message or str(error)
        )
        return ImageOutcome(image_name=image.image_name, outcome="rejected"), failure
    outcome = ImageOutcome(
        image_name=image.image_name,
        outcome="uploaded",
        image_id=uploaded.id,
        caption=uploaded.caption,
    )
    return outcome, None


def _first_error(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


async def upload_images(
    client: BriaApi,
    request: IngestImagesRequest,
    dataset: Dataset,
    existing: Mapping[str | None, api.DatasetImage],
    tally: Tally,
) -> None:
    """Skip the images already in the dataset, upload the others; the first error that is
    not one image's rejection stops the job (in-flight uploads are cancelled)."""
    tally.expect([image.image_name for image in request.images])
    pending = [image for image in request.images if image.image_name not in existing]
    if pending:
        refuse_if_completed(dataset, len(pending))
    for image in request.images:
        if image.image_name in existing:
            await tally.record(skipped(existing[image.image_name]))
    limit = asyncio.Semaphore(UPLOAD_CONCURRENCY)

    async def upload(image: DatasetImage) -> None:
        async with limit:
            outcome, failure = await upload_one(
                client, dataset.id, image, request.content_moderation
            )
        await tally.record(outcome, failure)

    try:
        async with asyncio.TaskGroup() as group:
            for image in pending:
                group.create_task(upload(image))
    except BaseExceptionGroup as errors:
        raise _first_error(errors) from None
