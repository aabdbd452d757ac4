"""Bulk ingest: download a zip of images, upload the entries not already in the dataset."""

import io
import zipfile
from collections.abc import Mapping
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import httpx

from bria_fleet import api
from bria_fleet.api import BriaApi, Dataset
from bria_fleet.runtime.outcomes import JobError
from bria_fleet.workers.ingest._progress import Tally
from bria_fleet.workers.ingest._uploads import refuse_if_completed, skipped
from bria_fleet_contracts.events.ingest import ImageOutcome

MAX_ZIP_BYTES = 512 * 1024 * 1024
"""The largest zip (and the largest total of its images) a job may bring in."""

DOWNLOAD_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
_RETRIABLE_DOWNLOAD_STATUSES = frozenset({408, 425, 429})


async def download(url: str) -> bytes:
    """The zip's bytes; a transient failure is retriable, any other failure is not."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with (
            httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT, follow_redirects=True) as http,
            http.stream("GET", url) as response,
        ):
            if response.status_code >= 400:
                status = response.status_code
                raise JobError(
                    "bulk_zip_unavailable",
                    f"downloading bulk_zip_url {url} answered {status}",
                    retriable=status >= 500 or status in _RETRIABLE_DOWNLOAD_STATUSES,
                    http_status=status,
                )
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > MAX_ZIP_BYTES:
                    raise JobError(
                        "bulk_zip_too_large", f"bulk_zip_url {url} is over {MAX_ZIP_BYTES} bytes"
                    )
                chunks.append(chunk)
    except httpx.TransportError as error:
        raise JobError(
            "bulk_zip_unavailable",
            f"downloading bulk_zip_url {url} failed ({type(error).__name__}: {error})",
            retriable=True,
        ) from error
    return b"".join(chunks)


def image_entries(archive: bytes) -> dict[str, zipfile.ZipInfo]:
    """The zip's images by the name the API gives them (the file name, folders dropped)."""
    try:
        bundle = zipfile.ZipFile(io.BytesIO(archive))
    except zipfile.BadZipFile as error:
        raise JobError("invalid_zip", f"bulk_zip_url is not a zip file: {error}") from error
    entries: dict[str, zipfile.ZipInfo] = {}
    for entry in bundle.infolist():
        name = PurePosixPath(entry.filename).name
        if entry.is_dir() or name.startswith(".") or "__MACOSX" in entry.filename:
            continue
        entries[name] = entry
    if not entries:
        raise JobError("invalid_zip", "bulk_zip_url holds no images")
    if sum(entry.file_size for entry in entries.values()) > MAX_ZIP_BYTES:
        raise JobError("bulk_zip_too_large", f"the zip's images are over {MAX_ZIP_BYTES} bytes")
    return entries


def repack(archive: bytes, entries: list[zipfile.ZipInfo]) -> bytes:
    """A zip of only ``entries`` of ``archive``."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(archive)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target,
    ):
        for entry in entries:
            target.writestr(entry, source.read(entry))
    return out.getvalue()


async def ingest_zip(
    client: BriaApi,
    url: str,
    dataset: Dataset,
    existing: Mapping[str | None, api.DatasetImage],
    tally: Tally,
) -> None:
    """Upload the zip's images not already in the dataset in one bulk call (engine only)."""
    if client.backend != "engine":
        raise JobError(
            "unsupported_operation",
            f"bulk_zip_url needs the engine's bulk upload route, which the {client.backend} "
            "backend (BRIA_BACKEND) does not offer; give the images one by one by URL",
        )
    archive = await download(url)
    entries = image_entries(archive)
    tally.expect(list(entries))
    pending = [name for name in entries if name not in existing]
    for name in entries:
        if name in existing:
            await tally.record(skipped(existing[name]), report=False)
    if not pending:
        return
    refuse_if_completed(dataset, len(pending))
    body = (
        archive if len(pending) == len(entries) else repack(archive, [entries[n] for n in pending])
    )
    filename = PurePosixPath(urlsplit(url).path).name or "images.zip"
    answer = await client.upload_images_zip(dataset.id, body, filename=filename)
    added = {image.image_name: image for image in answer.images}
    for name in pending:
        image = added.get(name)
        outcome = ImageOutcome(
            image_name=name,
            outcome="uploaded",
            image_id=image.id if image else None,
            caption=image.caption if image else None,
        )
        await tally.record(outcome, report=False)
    await tally.save()
