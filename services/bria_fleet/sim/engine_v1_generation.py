"""Engine v1 generation with tailored models: text-to-image, text-to-vector, reimagine, restyle."""

import asyncio
import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bria_fleet.sim.bodies import body_as
from bria_fleet.sim.engine_requests import (
    ReimagineGenerate,
    RestylePortrait,
    TextGenerate,
)
from bria_fleet.sim.errors import BadRequestError, ServerError
from bria_fleet.sim.generation import (
    LEGACY_VERSIONS,
    Guidance,
    check_guidance,
    decode_image,
    ip_warning,
    moderate_inputs,
    moderate_prompt,
    outputs,
    seeds,
    trained_model,
)
from bria_fleet.sim.simulator import Simulator

RESTYLE_VERSIONS = frozenset({"light", "bria-2.3"})


def _guidance(body: TextGenerate) -> list[str]:
    return check_guidance(
        [
            Guidance(
                body.guidance_method_1,
                body.guidance_method_1_scale,
                body.guidance_method_1_image_file,
                body.guidance_method_1_image_url,
            ),
            Guidance(
                body.guidance_method_2,
                body.guidance_method_2_scale,
                body.guidance_method_2_image_file,
                body.guidance_method_2_image_url,
            ),
        ],
        body.image_prompt_mode,
        body.image_prompt_file,
        body.image_prompt_urls,
    )


def _reference(url: str | None, file: str | None, name: str) -> list[str]:
    """Exactly one reference image, as a URL or base64; return the URL (for moderation)."""
    if not url and not file:
        raise BadRequestError(f"One of {name}_url and {name}_file must be provided")
    if file:
        decode_image(file, f"{name}_file")
    return [url] if url else []


def build_router(sim: Simulator) -> APIRouter:
    """The routes, bound to ``sim``."""
    router = APIRouter(prefix="/v1")

    async def generate(
        request: Request,
        extension: str,
        count: int,
        aspect_ratio: str,
        seed: int | None,
        sync: bool,
        prompt: str | None,
    ) -> JSONResponse:
        timing, faults = sim.knobs.timing, sim.knobs.faults
        fails = sim.rng.random() < faults.generation_failure_rate
        if sync:
            await asyncio.sleep(timing.generation_seconds)
            if fails:
                raise ServerError("Generation failed. Please try again.")
        now = sim.clock.now()
        # An asynchronous failure leaves the URLs unavailable for good.
        ready_at = now if sync else (math.inf if fails else now + timing.generation_seconds)
        seed_values = seeds(sim.rng, seed, count)
        made = outputs(sim.assets, extension, aspect_ratio, seed_values, ready_at)
        body: dict[str, Any] = {
            "result": [
                {"urls": [sim.url_of(request, asset.id)], "seed": value, "uuid": asset.id}
                for asset, value in zip(made, seed_values, strict=True)
            ]
        }
        warning = ip_warning(prompt)
        if warning:
            body["warning"] = warning
        return JSONResponse(body)

    @router.post("/text-to-image/tailored/{model_id}")
    async def text_to_image(model_id: str, request: Request) -> JSONResponse:
        body = await body_as(request, TextGenerate)
        trained_model(sim.state, model_id, LEGACY_VERSIONS, "text-to-image/tailored")
        urls = _guidance(body)
        moderate_prompt(body.prompt, body.prompt_content_moderation)
        moderate_inputs(urls, body.content_moderation)
        return await generate(
            request, "png", body.num_results, body.aspect_ratio, body.seed, body.sync, body.prompt
        )

    @router.post("/text-to-vector/tailored/{model_id}")
    async def text_to_vector(model_id: str, request: Request) -> JSONResponse:
        body = await body_as(request, TextGenerate)
        model = trained_model(sim.state, model_id, LEGACY_VERSIONS, "text-to-vector/tailored")
        project = sim.state.projects.get(model.project_id or 0)
        if project is not None and project.ip_medium != "illustration":
            raise BadRequestError("Text-to-vector supports only models in the illustrative domain")
        urls = _guidance(body)
        moderate_prompt(body.prompt, body.prompt_content_moderation)
        moderate_inputs(urls, body.content_moderation)
        return await generate(
            request, "svg", body.num_results, body.aspect_ratio, body.seed, body.sync, body.prompt
        )

    @router.post("/reimagine/tailored/{model_id}")
    async def reimagine(model_id: str, request: Request) -> JSONResponse:
        body = await body_as(request, ReimagineGenerate)
        trained_model(sim.state, model_id, LEGACY_VERSIONS, "reimagine/tailored")
        urls = _reference(body.structure_image_url, body.structure_image_file, "structure_image")
        moderate_prompt(body.prompt, body.prompt_content_moderation)
        moderate_inputs(urls, body.content_moderation)
        return await generate(
            request, "png", body.num_results, body.aspect_ratio, body.seed, body.sync, body.prompt
        )

    @router.post("/tailored-gen/restyle_portrait")
    async def restyle_portrait(request: Request) -> JSONResponse:
        body = await body_as(request, RestylePortrait)
        trained_model(sim.state, body.tailored_model_id, RESTYLE_VERSIONS, "restyle_portrait")
        urls = _reference(body.id_image_url, body.id_image_file, "id_image")
        moderate_inputs(urls, body.content_moderation)
        return await generate(request, "png", 1, "1:1", body.seed, body.sync, None)

    return router
