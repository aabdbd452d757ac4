"""Engine FIBO routes: visual schema, refine, bulk upload, and the asynchronous ``/v2`` API."""

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bria_fleet.sim import captions
from bria_fleet.sim.async_jobs import Job
from bria_fleet.sim.bodies import body_as, path_id
from bria_fleet.sim.direct import DirectRoute
from bria_fleet.sim.engine_requests import FiboGenerate, RefineRequest, SampleImages
from bria_fleet.sim.engine_v1 import check_samples
from bria_fleet.sim.entities import Model
from bria_fleet.sim.errors import BadRequestError, NotFoundError, ServerError
from bria_fleet.sim.generation import (
    ip_warning,
    moderate_prompt,
    outputs,
    seeds,
    trained_model,
)
from bria_fleet.sim.simulator import Simulator
from bria_fleet.sim.uploads import read_bulk
from bria_fleet.sim.views import image_view

FIBO_VERSIONS = frozenset({"fibo"})


def new_request_id(sim: Simulator) -> str:
    """A request id drawn from the simulator's seeded randomness."""
    return uuid.UUID(int=sim.rng.getrandbits(128), version=4).hex


async def submit(
    sim: Simulator,
    request: Request,
    kind: str,
    result: dict[str, Any],
    sync: bool,
    status_path: str,
    webhook_url: str | None = None,
    duration: float | None = None,
) -> JSONResponse:
    """Run a generation job: 202 with a status URL, or (``sync``) 200 with the result.

    An asynchronous job with a ``webhook_url`` also gets its terminal status POSTed there.
    """
    faults = sim.knobs.faults
    now = sim.clock.now()
    fails = sim.rng.random() < faults.generation_failure_rate
    seconds = generation_duration(sim) if duration is None else duration
    job = Job(new_request_id(sim), kind, now, now + seconds, fails, result)
    sim.jobs.add(job)
    if not sync and webhook_url:
        sim.webhooks.schedule(job, webhook_url)
    if not sync:
        status_url = f"{sim.base_url(request)}{status_path}/{job.id}"
        return JSONResponse({"request_id": job.id, "status_url": status_url}, status_code=202)
    await asyncio.sleep(seconds)
    if fails:
        raise ServerError("Generation failed. Please try again.")
    return JSONResponse({"request_id": job.id, "result": result, **result})


def generation_duration(sim: Simulator) -> float:
    """How long the next asynchronous job takes: the set time plus its random part."""
    timing = sim.knobs.timing
    if timing.generation_jitter_seconds <= 0:  # draws nothing: seeded runs stay as they were
        return timing.generation_seconds
    return timing.generation_seconds + sim.rng.uniform(0.0, timing.generation_jitter_seconds)


def _fibo_model(sim: Simulator, body: FiboGenerate, route: str) -> Model:
    moderate_prompt(body.prompt, body.prompt_content_moderation)
    return trained_model(sim.state, body.tailored_model_id, FIBO_VERSIONS, route)


def build_router(sim: Simulator) -> APIRouter:
    """The routes, bound to ``sim``."""
    router = APIRouter()

    @router.post("/v1/tailored-gen/generate_visual_schema")
    async def generate_visual_schema(request: Request) -> JSONResponse:
        body = await body_as(request, SampleImages)
        if body.dataset_id is not None:
            sim.state.dataset(body.dataset_id)
        samples = body.samples()
        check_samples(samples, 5, 10, body.content_moderation)
        return JSONResponse({"visual_schema": captions.visual_schema(samples)})

    @router.post("/v1/tailored-gen/refine_structured_prompt")
    async def refine_structured_prompt(request: Request) -> JSONResponse:
        body = await body_as(request, RefineRequest)
        source = body.structured_prompt or body.visual_schema
        instruction = body.instruction or body.prompt
        if not source or not instruction:
            raise BadRequestError("Provide structured_prompt (or visual_schema) and an instruction")
        refined = captions.refine(source, instruction)
        key = "structured_prompt" if body.structured_prompt else "visual_schema"
        return JSONResponse({key: refined})

    @router.post("/v1/tailored-gen/datasets/{dataset_id}/images/bulk")
    async def bulk_upload(dataset_id: str, request: Request) -> JSONResponse:
        target = path_id(dataset_id, "Dataset")
        sim.state.ensure_uploadable(target, bulk=True)
        specs = await read_bulk(request, sim.config.min_image_side, sim.own_asset)
        added = sim.state.add_images(target, specs, bulk=True)
        base = sim.base_url(request)
        return JSONResponse(
            {
                "dataset_id": target,
                "uploaded": len(added),
                "images_count": len(sim.state.dataset(target).images),
                "images": [image_view(i, base, sim.assets) for i in added],
            },
            status_code=201,
        )

    @router.post("/v2/image/generate/tailored")
    async def generate_image(request: Request) -> JSONResponse:
        body = await body_as(request, FiboGenerate)
        if not body.prompt and not body.structured_prompt:
            raise BadRequestError(
                "Provide prompt, structured_prompt + seed, or structured_prompt + prompt"
            )
        if body.structured_prompt and not body.prompt and body.seed is None:
            raise BadRequestError(
                "structured_prompt without prompt recreates an image and needs seed"
            )
        model = _fibo_model(sim, body, "/v2/image/generate/tailored")
        (seed,) = seeds(sim.rng, body.seed, 1)
        dataset = sim.state.datasets.get(model.dataset_id)
        schema = dataset.visual_schema if dataset else None
        if body.structured_prompt and body.prompt:
            structured = captions.refine(body.structured_prompt, body.prompt)
        else:
            fresh = captions.structured_prompt(body.prompt or "", schema, seed)
            structured = body.structured_prompt or fresh
        duration = generation_duration(sim)
        ready_at = sim.clock.now() + duration
        (asset,) = outputs(sim.assets, "png", body.aspect_ratio, [seed], ready_at)
        result: dict[str, Any] = {
            "image_url": sim.url_of(request, asset.id),
            "seed": seed,
            "prompt": body.prompt,
            "structured_prompt": structured,
        }
        if body.structured_prompt and body.prompt:
            result["refined_prompt"] = body.prompt
        warning = ip_warning(body.prompt)
        if warning:
            result["warning"] = warning
        return await submit(
            sim, request, "image", result, body.sync, "/v2/status", body.webhook_url, duration
        )

    @router.post("/v2/structured_prompt/generate/tailored")
    async def generate_structured_prompt(request: Request) -> JSONResponse:
        body = await body_as(request, FiboGenerate)
        if not body.prompt:
            raise BadRequestError("Provide prompt, or structured_prompt + prompt")
        model = _fibo_model(sim, body, "/v2/structured_prompt/generate/tailored")
        (seed,) = seeds(sim.rng, body.seed, 1)
        dataset = sim.state.datasets.get(model.dataset_id)
        structured = (
            captions.refine(body.structured_prompt, body.prompt)
            if body.structured_prompt
            else captions.structured_prompt(
                body.prompt, dataset.visual_schema if dataset else None, seed
            )
        )
        result = {"structured_prompt": structured, "seed": seed, "prompt": body.prompt}
        return await submit(
            sim, request, "structured_prompt", result, body.sync, "/v2/status", body.webhook_url
        )

    @router.get(STATUS_ROUTE)
    async def status(request_id: str) -> JSONResponse:
        return status_answer(sim, request_id)

    return router


STATUS_ROUTE = "/v2/status/{request_id}"


def status_answer(sim: Simulator, request_id: str) -> JSONResponse:
    """The answer to ``GET /v2/status/{request_id}``."""
    job = sim.jobs.get(request_id)
    if job is None:
        raise NotFoundError("Request ID not found or expired")
    return JSONResponse(job.view(sim.clock.now()))


def direct_routes(sim: Simulator) -> list[DirectRoute]:
    """The status route, answered without the framework's routing: clients poll it the
    most (thousands of watches), and routing cost several times the answer itself."""
    return [
        DirectRoute("GET", STATUS_ROUTE, lambda params: status_answer(sim, params["request_id"]))
    ]
