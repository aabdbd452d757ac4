"""Find or create the project and dataset of a job, set them up, complete them."""

import json

from bria_fleet.api import BriaApi, Conflict, Dataset, DatasetStatus, StructuredData
from bria_fleet.workers.ingest._progress import Known
from bria_fleet_contracts import IngestImagesRequest
from bria_fleet_contracts.ingest import DatasetSpec


async def resolve_project(client: BriaApi, request: IngestImagesRequest) -> str:
    """The project's id: as given, or the project found by name, or a new one."""
    if request.project_id is not None:
        return request.project_id
    spec = request.project
    assert spec is not None, "the contract requires project_id or project"
    found = await client.find_project_by_name(spec.name)
    if found is not None:
        return found.id
    created = await client.create_project(
        name=spec.name,
        ip_type=spec.ip_type,
        ip_medium=spec.ip_medium,
        description=spec.description,
        ip_name=spec.ip_name,
        ip_description=spec.ip_description,
    )
    return created.id


async def resolve_dataset(
    client: BriaApi, request: IngestImagesRequest, known: Known
) -> tuple[Dataset, bool]:
    """The dataset (by id, or found or created by name in the project), set up as the spec
    says; and whether it was created now (so it holds no images yet)."""
    if request.dataset_id is not None:
        dataset = await client.get_dataset(request.dataset_id)
        known.project_id = dataset.project_id
        return dataset, False
    spec = request.dataset
    assert spec is not None, "the contract requires dataset_id or dataset"
    known.project_id = await resolve_project(client, request)
    found = await client.find_dataset_by_name(known.project_id, spec.name)
    created = found is None
    if found is None:
        found = await client.create_dataset(project_id=known.project_id, name=spec.name)
    dataset = found
    known.dataset_id = dataset.id
    return await _set_up(client, dataset, spec), created


def _same_json(text: str, current: StructuredData | None) -> bool:
    if isinstance(current, str):
        try:
            current = json.loads(current)
        except ValueError:
            return False
    return bool(json.loads(text) == current)


async def _set_up(client: BriaApi, dataset: Dataset, spec: DatasetSpec) -> Dataset:
    """Set the caption prefix or visual schema before uploading, unless already so."""
    if dataset.status is DatasetStatus.COMPLETED:
        return dataset
    if spec.caption_prefix is not None and spec.caption_prefix != dataset.caption_prefix:
        return await client.update_dataset(dataset.id, caption_prefix=spec.caption_prefix)
    if spec.visual_schema is not None and not _same_json(spec.visual_schema, dataset.visual_schema):
        return await client.update_dataset(dataset.id, visual_schema=spec.visual_schema)
    return dataset


async def ensure_completed(client: BriaApi, dataset: Dataset) -> Dataset:
    """Mark the dataset completed; one that already is (even if raced to it) is a success."""
    if dataset.status is DatasetStatus.COMPLETED:
        return dataset
    try:
        updated = await client.update_dataset(dataset.id, status=DatasetStatus.COMPLETED)
    except Conflict:
        current = await client.get_dataset(dataset.id)
        if current.status is not DatasetStatus.COMPLETED:
            raise
        return current
    return updated.model_copy(update={"status": DatasetStatus.COMPLETED})
