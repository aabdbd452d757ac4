"""Engine v1 management routes: ``/v1/tailored-gen/`` projects, datasets, images, models."""

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from bria_fleet.sim import captions
from bria_fleet.sim.bodies import body_as, json_object, parse, path_id
from bria_fleet.sim.engine_requests import (
    CaptionUpdate,
    DatasetClone,
    DatasetCreate,
    DatasetUpdate,
    ModelCreate,
    ModelUpdate,
    ProjectCreate,
    ProjectUpdate,
    SampleImages,
)
from bria_fleet.sim.entities import ModelStatus
from bria_fleet.sim.errors import BadRequestError, ConflictError
from bria_fleet.sim.generation import decode_image, moderate_inputs
from bria_fleet.sim.simulator import Simulator
from bria_fleet.sim.state import PREFIX_IP_TYPES
from bria_fleet.sim.uploads import read_upload
from bria_fleet.sim.views import dataset_view, image_view, model_view, project_view

BASE_MODELS = {"light": "bria-2.3", "max": "bria-3.2", "bria-2.3": "bria-2.3"}
BASE_MODELS |= {"bria-3.2": "bria-3.2", "fibo": "fibo"}


def check_samples(samples: list[str], low: int, high: int, moderation: bool) -> None:
    """``low``..``high`` sample images, each a URL or a valid base64 image."""
    if not low <= len(samples) <= high:
        raise BadRequestError(f"Provide between {low} and {high} sample images")
    urls = [s for s in samples if s.startswith(("http://", "https://"))]
    moderate_inputs(urls, moderation)
    for sample in samples:
        if sample not in urls:
            decode_image(sample, "images")


def _legacy(body: DatasetCreate | DatasetUpdate) -> dict[str, str]:
    """The legacy document's dataset fields that the request sets."""
    fields = {"use_case": body.use_case, "style_description": body.style_description}
    return {key: value for key, value in fields.items() if value is not None}


def build_router(sim: Simulator) -> APIRouter:
    """The routes, bound to ``sim``."""
    router = APIRouter(prefix="/v1/tailored-gen")

    def datasets_json(request: Request, datasets: list[int]) -> JSONResponse:
        state, now, base = sim.state, sim.state.now(), sim.base_url(request)
        return JSONResponse(
            [dataset_view(state.datasets[i], now, base, sim.assets) for i in datasets]
        )

    # projects ---------------------------------------------------------------------------

    @router.post("/projects")
    async def create_project(request: Request) -> JSONResponse:
        body = await body_as(request, ProjectCreate)
        project = sim.state.create_project(
            body.project_name or "",
            body.ip_medium or "",
            body.ip_type or "",
            body.project_description or "",
            body.ip_name or "",
            body.ip_description or "",
        )
        return JSONResponse(project_view(project), status_code=201)

    @router.get("/projects")
    async def list_projects() -> JSONResponse:
        return JSONResponse([project_view(p) for p in sim.state.projects.values()])

    @router.get("/projects/{project_id}")
    async def get_project(project_id: str) -> JSONResponse:
        return JSONResponse(project_view(sim.state.project(path_id(project_id, "Project"))))

    @router.put("/projects/{project_id}")
    async def update_project(project_id: str, request: Request) -> JSONResponse:
        body = await body_as(request, ProjectUpdate)
        changes = body.model_dump(include=set(ProjectUpdate.model_fields), exclude_none=True)
        project = sim.state.update_project(path_id(project_id, "Project"), changes)
        return JSONResponse(project_view(project))

    @router.delete("/projects/{project_id}")
    async def delete_project(project_id: str) -> Response:
        sim.state.delete_project(path_id(project_id, "Project"))
        return Response(status_code=204)

    @router.get("/projects/{project_id}/datasets")
    async def project_datasets(project_id: str, request: Request) -> JSONResponse:
        found = sim.state.datasets_of(path_id(project_id, "Project"))
        return datasets_json(request, [d.id for d in found])

    @router.get("/projects/{project_id}/models")
    async def project_models(project_id: str) -> JSONResponse:
        now = sim.state.now()
        found = sim.state.models_of(path_id(project_id, "Project"))
        return JSONResponse([model_view(m, now) for m in found])

    # datasets ---------------------------------------------------------------------------

    @router.post("/datasets")
    async def create_dataset(request: Request) -> JSONResponse:
        body = await body_as(request, DatasetCreate)
        dataset = sim.state.create_dataset(
            body.project_id, body.name or "", body.caption_prefix, _legacy(body)
        )
        view = dataset_view(dataset, sim.state.now(), sim.base_url(request), sim.assets)
        return JSONResponse(view, status_code=201)

    @router.get("/datasets")
    async def list_datasets(request: Request) -> JSONResponse:
        return datasets_json(request, list(sim.state.datasets))

    @router.get("/datasets/{dataset_id}")
    async def get_dataset(dataset_id: str, request: Request) -> JSONResponse:
        dataset = sim.state.dataset(path_id(dataset_id, "Dataset"))
        base = sim.base_url(request)
        now = sim.state.now()
        return JSONResponse(dataset_view(dataset, now, base, sim.assets, with_images=True))

    @router.put("/datasets/{dataset_id}")
    async def update_dataset(dataset_id: str, request: Request) -> JSONResponse:
        body = await body_as(request, DatasetUpdate)
        dataset = sim.state.update_dataset(
            path_id(dataset_id, "Dataset"),
            name=body.name,
            caption_prefix=body.caption_prefix,
            status=body.status,
            visual_schema=body.visual_schema,
            legacy=_legacy(body),
        )
        # The vendor's notebook reads the completed dataset's images (and their captions)
        # from the answer to the PUT that completes it.
        view = dataset_view(
            dataset,
            sim.state.now(),
            sim.base_url(request),
            sim.assets,
            with_images=body.status is not None,
        )
        return JSONResponse(view)

    @router.delete("/datasets/{dataset_id}")
    async def delete_dataset(dataset_id: str) -> Response:
        sim.state.delete_dataset(path_id(dataset_id, "Dataset"))
        return Response(status_code=204)

    @router.post("/datasets/{dataset_id}/clone")
    async def clone_dataset(dataset_id: str, request: Request) -> JSONResponse:
        body = await body_as(request, DatasetClone)
        clone = sim.state.clone_dataset(path_id(dataset_id, "Dataset"), body.name)
        base, now = sim.base_url(request), sim.state.now()
        view = dataset_view(clone, now, base, sim.assets, with_images=True)
        return JSONResponse(view, status_code=201)

    # images -----------------------------------------------------------------------------

    @router.post("/datasets/{dataset_id}/images")
    async def upload_image(dataset_id: str, request: Request) -> JSONResponse:
        target = path_id(dataset_id, "Dataset")
        sim.state.ensure_uploadable(target)
        spec = await read_upload(request, sim.config.min_image_side, sim.own_asset)
        (image,) = sim.state.add_images(target, [spec])
        view = image_view(image, sim.base_url(request), sim.assets)
        return JSONResponse(view, status_code=201)

    @router.get("/datasets/{dataset_id}/images")
    async def list_images(dataset_id: str, request: Request) -> JSONResponse:
        dataset = sim.state.dataset(path_id(dataset_id, "Dataset"))
        base = sim.base_url(request)
        return JSONResponse([image_view(i, base, sim.assets) for i in dataset.images.values()])

    @router.put("/datasets/{dataset_id}/images")
    async def regenerate_all_captions(dataset_id: str, request: Request) -> JSONResponse:
        dataset = sim.state.regenerate_captions(path_id(dataset_id, "Dataset"))
        view = dataset_view(dataset, sim.state.now(), sim.base_url(request), sim.assets)
        return JSONResponse(view)

    @router.get("/datasets/{dataset_id}/images/{image_id}")
    async def get_image(dataset_id: str, image_id: str, request: Request) -> JSONResponse:
        image = sim.state.image(path_id(dataset_id, "Dataset"), path_id(image_id, "Image"))
        return JSONResponse(image_view(image, sim.base_url(request), sim.assets))

    @router.put("/datasets/{dataset_id}/images/{image_id}")
    async def update_caption(dataset_id: str, image_id: str, request: Request) -> JSONResponse:
        body = await body_as(request, CaptionUpdate)
        image = sim.state.set_caption(
            path_id(dataset_id, "Dataset"),
            path_id(image_id, "Image"),
            body.caption,
            body.regenerate_caption,
        )
        return JSONResponse(image_view(image, sim.base_url(request), sim.assets))

    @router.delete("/datasets/{dataset_id}/images/{image_id}")
    async def delete_image(dataset_id: str, image_id: str) -> Response:
        sim.state.delete_image(path_id(dataset_id, "Dataset"), path_id(image_id, "Image"))
        return Response(status_code=204)

    @router.post("/generate_prefix")
    async def generate_prefix(request: Request) -> JSONResponse:
        body = await body_as(request, SampleImages)
        ip_type = None
        if body.dataset_id is not None:
            project_id = sim.state.dataset(body.dataset_id).project_id
            if project_id is not None:
                ip_type = sim.state.project(project_id).ip_type
        elif body.project_id is not None:
            ip_type = sim.state.project(body.project_id).ip_type
        if ip_type is not None and ip_type not in PREFIX_IP_TYPES:
            allowed = ", ".join(sorted(PREFIX_IP_TYPES))
            raise BadRequestError(f"generate_prefix supports only the IP types {allowed}")
        samples = body.samples()
        check_samples(samples, 1, 6, body.content_moderation)
        prefix = captions.generated_prefix(samples, ip_type or "stylized_scene")
        return JSONResponse({"prefix": prefix, "caption_prefix": prefix})

    # models -----------------------------------------------------------------------------

    @router.post("/models")
    async def create_model(request: Request) -> JSONResponse:
        body = await body_as(request, ModelCreate)
        model = sim.state.create_model(
            body.dataset_id,
            body.name or "",
            body.training_version,
            body.description or "",
            body.training_mode or body.training_method,
        )
        return JSONResponse(model_view(model, sim.state.now()), status_code=201)

    @router.get("/models")
    async def list_models() -> JSONResponse:
        now = sim.state.now()
        return JSONResponse([model_view(m, now) for m in sim.state.models.values()])

    @router.get("/models/{model_id}")
    async def get_model(model_id: str) -> JSONResponse:
        model = sim.state.model(path_id(model_id, "Model"))
        return JSONResponse(model_view(model, sim.state.now()))

    @router.put("/models/{model_id}")
    async def update_model(model_id: str, request: Request) -> JSONResponse:
        raw = await json_object(request)
        fixed = {"training_version", "dataset_id", "project_id"} & set(raw)
        if fixed:
            raise BadRequestError(f"{', '.join(sorted(fixed))} cannot be modified after creation")
        body = parse(ModelUpdate, raw)
        model = sim.state.update_model(path_id(model_id, "Model"), body.name, body.description)
        return JSONResponse(model_view(model, sim.state.now()))

    @router.delete("/models/{model_id}")
    async def delete_model(model_id: str) -> Response:
        sim.state.delete_model(path_id(model_id, "Model"))
        return Response(status_code=204)

    @router.post("/models/{model_id}/start_training")
    async def start_training(model_id: str) -> JSONResponse:
        model = sim.state.start_training(path_id(model_id, "Model"))
        return JSONResponse({"id": model.id, "status": model.status_at(sim.state.now()).value})

    @router.post("/models/{model_id}/stop_training")
    async def stop_training(model_id: str) -> JSONResponse:
        model = sim.state.stop_training(path_id(model_id, "Model"))
        return JSONResponse({"id": model.id, "status": model.status_at(sim.state.now()).value})

    @router.get("/models/{model_id}/download")
    async def download_model(model_id: str, request: Request) -> JSONResponse:
        model = sim.state.model(path_id(model_id, "Model"))
        status = model.status_at(sim.state.now())
        if status is not ModelStatus.COMPLETED:
            raise ConflictError(f"Only a trained model can be downloaded (status {status.value})")
        asset = sim.assets.model_file(model.id, sim.clock.now())
        return JSONResponse(
            {
                "model_url": sim.url_of(request, asset.id),
                "base_model": BASE_MODELS.get(model.training_version, model.training_version),
                "prompt_prefix": model.generation_prefix,
                "training_version": model.training_version,
            }
        )

    return router
