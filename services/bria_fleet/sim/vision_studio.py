"""Vision Studio ``/api/v1/bria-lora`` management routes over the engine's state."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError

from bria_fleet.sim.bodies import path_id
from bria_fleet.sim.errors import UnprocessableError
from bria_fleet.sim.simulator import Simulator
from bria_fleet.sim.uploads import new_image, read_local_file
from bria_fleet.sim.views import dataset_view, image_view, model_view, project_view
from bria_fleet.sim.vs_requests import (
    CreateDataset,
    CreateModel,
    CreateProject,
    UpdateCaption,
    UpdateDataset,
    UpdateModel,
    UpdateProject,
    UploadImage,
)


def envelope(result: Any) -> dict[str, Any]:
    """Vision Studio's response envelope."""
    return {"status": "success", "result": result}


def same_id(path_value: str, body_value: int, field: str) -> int:
    """The id in the path, which must equal the one the body repeats (else a 422)."""
    value = path_id(path_value, field.removesuffix("_id").capitalize())
    if value != body_value:
        message = f"{field} in the body ({body_value}) differs from the path ({path_value})"
        error = {"loc": ["body", field], "msg": message, "type": "value_error"}
        raise RequestValidationError([error])
    return value


def build_router(sim: Simulator) -> APIRouter:
    """The routes, bound to ``sim``."""
    router = APIRouter(prefix="/api/v1/bria-lora")

    def dataset_json(dataset_id: int, request: Request, images: bool = False) -> dict[str, Any]:
        dataset, base = sim.state.dataset(dataset_id), sim.base_url(request)
        return dataset_view(dataset, sim.state.now(), base, sim.assets, with_images=images)

    # projects ---------------------------------------------------------------------------

    @router.get("/projects")
    async def list_projects() -> dict[str, Any]:
        return envelope([project_view(p) for p in sim.state.projects.values()])

    @router.post("/projects")
    async def create_project(body: CreateProject) -> dict[str, Any]:
        project = sim.state.create_project(
            body.project_name,
            body.ip_medium,
            body.ip_type,
            body.project_description or "",
            body.ip_name or "",
            body.ip_description or "",
        )
        return envelope(project_view(project))

    @router.get("/projects/{project_id}")
    async def get_project(project_id: str) -> dict[str, Any]:
        return envelope(project_view(sim.state.project(path_id(project_id, "Project"))))

    @router.put("/projects/{project_id}")
    async def update_project(project_id: str, body: UpdateProject) -> dict[str, Any]:
        target = same_id(project_id, body.project_id, "project_id")
        changes = body.model_dump(exclude_none=True, exclude={"project_id"})
        return envelope(project_view(sim.state.update_project(target, changes)))

    @router.delete("/projects/{project_id}")
    async def delete_project(project_id: str) -> dict[str, Any]:
        target = path_id(project_id, "Project")
        sim.state.delete_project(target)
        return envelope({"id": target, "deleted": True})

    @router.get("/projects/{project_id}/datasets")
    async def project_datasets(
        project_id: str,
        request: Request,
        include_models: bool = False,
        include_models_ids: bool = False,
    ) -> dict[str, Any]:
        target = path_id(project_id, "Project")
        views = []
        now = sim.state.now()
        for dataset in sim.state.datasets_of(target):
            view = dataset_json(dataset.id, request)
            models = [m for m in sim.state.models.values() if m.dataset_id == dataset.id]
            if include_models:
                view["models"] = [model_view(m, now) for m in models]
            if include_models_ids:
                view["models_ids"] = [m.id for m in models]
            views.append(view)
        return envelope(views)

    @router.get("/projects/{project_id}/models")
    async def project_models(project_id: str) -> dict[str, Any]:
        now = sim.state.now()
        models = sim.state.models_of(path_id(project_id, "Project"))
        return envelope([model_view(m, now) for m in models])

    # datasets ---------------------------------------------------------------------------

    @router.get("/datasets")
    async def list_datasets(request: Request) -> dict[str, Any]:
        return envelope([dataset_json(i, request) for i in list(sim.state.datasets)])

    @router.post("/datasets")
    async def create_dataset(body: CreateDataset, request: Request) -> dict[str, Any]:
        dataset = sim.state.create_dataset(body.project_id, body.name)
        return envelope(dataset_json(dataset.id, request))

    @router.get("/datasets/{dataset_id}")
    async def get_dataset(dataset_id: str, request: Request) -> dict[str, Any]:
        return envelope(dataset_json(path_id(dataset_id, "Dataset"), request, images=True))

    @router.put("/datasets/{dataset_id}")
    async def update_dataset(
        dataset_id: str, body: UpdateDataset, request: Request
    ) -> dict[str, Any]:
        target = same_id(dataset_id, body.dataset_id, "dataset_id")
        sim.state.update_dataset(
            target, name=body.name, caption_prefix=body.caption_prefix, status=body.status
        )
        return envelope(dataset_json(target, request))

    @router.delete("/datasets/{dataset_id}")
    async def delete_dataset(dataset_id: str) -> dict[str, Any]:
        target = path_id(dataset_id, "Dataset")
        sim.state.delete_dataset(target)
        return envelope({"id": target, "deleted": True})

    # images and captions ----------------------------------------------------------------

    @router.post("/datasets/{dataset_id}/images")
    async def upload_image(dataset_id: str, body: UploadImage, request: Request) -> dict[str, Any]:
        target = same_id(dataset_id, body.dataset_id, "dataset_id")
        sim.state.ensure_uploadable(target)
        if bool(body.file_path) == bool(body.image_url):
            raise UnprocessableError("Provide exactly one of file_path and image_url")
        data = read_local_file(body.file_path) if body.file_path else None
        file_name = body.file_path.rsplit("/", 1)[-1] if body.file_path else None
        spec = new_image(
            data,
            body.image_url,
            body.image_name,
            file_name,
            sim.config.min_image_side,
            sim.own_asset,
        )
        (image,) = sim.state.add_images(target, [spec])
        return envelope(image_view(image, sim.base_url(request), sim.assets))

    @router.get("/datasets/{dataset_id}/images")
    async def list_images(dataset_id: str, request: Request) -> dict[str, Any]:
        dataset = sim.state.dataset(path_id(dataset_id, "Dataset"))
        base = sim.base_url(request)
        return envelope([image_view(i, base, sim.assets) for i in dataset.images.values()])

    @router.put("/datasets/{dataset_id}/images/captions")
    async def regenerate_all_captions(dataset_id: str, request: Request) -> dict[str, Any]:
        dataset = sim.state.regenerate_captions(path_id(dataset_id, "Dataset"))
        return envelope(dataset_json(dataset.id, request))

    @router.get("/datasets/{dataset_id}/images/{image_id}")
    async def get_image(dataset_id: str, image_id: int, request: Request) -> dict[str, Any]:
        image = sim.state.image(path_id(dataset_id, "Dataset"), image_id)
        return envelope(image_view(image, sim.base_url(request), sim.assets))

    @router.delete("/datasets/{dataset_id}/images/{image_id}")
    async def delete_image(dataset_id: str, image_id: int) -> dict[str, Any]:
        sim.state.delete_image(path_id(dataset_id, "Dataset"), image_id)
        return envelope({"id": image_id, "deleted": True})

    @router.put("/datasets/{dataset_id}/images/{image_id}/caption")
    async def update_caption(
        dataset_id: str, image_id: int, body: UpdateCaption, request: Request
    ) -> dict[str, Any]:
        target = same_id(dataset_id, body.dataset_id, "dataset_id")
        same_id(str(image_id), body.image_id, "image_id")
        image = sim.state.set_caption(target, image_id, body.caption, body.regenerate_caption)
        return envelope(image_view(image, sim.base_url(request), sim.assets))

    # models and training ----------------------------------------------------------------

    @router.get("/models")
    async def list_models() -> dict[str, Any]:
        now = sim.state.now()
        return envelope([model_view(m, now) for m in sim.state.models.values()])

    @router.post("/models")
    async def create_model(body: CreateModel) -> dict[str, Any]:
        model = sim.state.create_model(
            body.dataset_id, body.name, body.training_version, body.description or ""
        )
        return envelope(model_view(model, sim.state.now()))

    @router.get("/models/{model_id}")
    async def get_model(model_id: str) -> dict[str, Any]:
        model = sim.state.model(path_id(model_id, "Model"))
        return envelope(model_view(model, sim.state.now()))

    @router.put("/models/{model_id}")
    async def update_model(model_id: str, body: UpdateModel) -> dict[str, Any]:
        target = same_id(model_id, body.model_id, "model_id")
        model = sim.state.update_model(target, body.name, body.description)
        return envelope(model_view(model, sim.state.now()))

    @router.delete("/models/{model_id}")
    async def delete_model(model_id: str) -> dict[str, Any]:
        target = path_id(model_id, "Model")
        sim.state.delete_model(target)
        return envelope({"id": target, "deleted": True})

    @router.post("/models/{model_id}/training/start")
    async def start_training(model_id: str) -> dict[str, Any]:
        model = sim.state.start_training(path_id(model_id, "Model"))
        return envelope({"id": model.id, "status": model.status_at(sim.state.now()).value})

    @router.post("/models/{model_id}/training/stop")
    async def stop_training(model_id: str) -> dict[str, Any]:
        model = sim.state.stop_training(path_id(model_id, "Model"))
        return envelope({"id": model.id, "status": model.status_at(sim.state.now()).value})

    return router
