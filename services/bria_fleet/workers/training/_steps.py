"""The API steps of a training job, each safe to repeat when a request is redelivered."""

from bria_fleet.api import BriaApi, Conflict, DatasetStatus, ModelStatus, TailoredModel
from bria_fleet.runtime.outcomes import JobError
from bria_fleet.runtime.records import utcnow
from bria_fleet_contracts import ModelSpec, TrainModelRequest

NOT_STARTED = (ModelStatus.CREATED, ModelStatus.UNKNOWN)


async def ensure_dataset_completed(api: BriaApi, request: TrainModelRequest) -> None:
    """Mark the dataset completed if allowed; training needs a completed dataset."""
    dataset = await api.get_dataset(request.dataset_id)
    if dataset.status is DatasetStatus.COMPLETED:
        return
    if dataset.status is DatasetStatus.DELETED or not request.complete_dataset_if_needed:
        raise JobError(
            "dataset_not_completed",
            f"dataset {dataset.id} is {dataset.status.value}, and training needs a completed "
            "dataset: mark it completed, or send complete_dataset_if_needed=true",
        )
    await api.update_dataset(dataset.id, status=DatasetStatus.COMPLETED)


async def find_or_create_model(api: BriaApi, dataset_id: str, spec: ModelSpec) -> TailoredModel:
    """The model named ``spec.name`` on the dataset, created if there is none."""
    for model in await api.list_models():
        if model.name != spec.name or model.dataset_id != dataset_id:
            continue
        if model.training_version not in (None, spec.training_version):
            raise JobError(
                "model_conflict",
                f"model {model.id} named {spec.name!r} on dataset {dataset_id} trains "
                f"{model.training_version}, not {spec.training_version}: choose another name",
            )
        return model
    return await api.create_model(
        dataset_id=dataset_id,
        name=spec.name,
        training_version=spec.training_version,
        training_mode=spec.training_mode,
        description=spec.description,
    )


async def existing_model(api: BriaApi, model_id: str, dataset_id: str) -> TailoredModel:
    """The model ``model_id``, which must belong to the dataset."""
    model = await api.get_model(model_id)
    if model.dataset_id is not None and model.dataset_id != dataset_id:
        raise JobError(
            "dataset_mismatch",
            f"model {model_id} belongs to dataset {model.dataset_id}, not {dataset_id}",
        )
    return model


async def start_training(api: BriaApi, model: TailoredModel) -> TailoredModel:
    """Start training; a 409 because it already started (or ended) is not an error."""
    try:
        started = await api.start_training(model.id)
    except Conflict:
        current = await api.get_model(model.id)
        if current.status in NOT_STARTED:
            raise
        return current
    if started.status is ModelStatus.UNKNOWN:
        return await api.get_model(model.id)
    update = {"status": started.status, "raw_status": started.raw_status}
    return model.model_copy(update={**update, "updated_at": started.updated_at or utcnow()})
