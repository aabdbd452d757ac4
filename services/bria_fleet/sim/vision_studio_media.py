"""Vision Studio LoRA generation, media captioning, Bria status and health."""

import asyncio
from typing import Any

from fastapi import APIRouter, Request

from bria_fleet.sim import captions
from bria_fleet.sim.async_jobs import Job
from bria_fleet.sim.engine_v2 import new_request_id
from bria_fleet.sim.entities import Model
from bria_fleet.sim.errors import (
    BadRequestError,
    NotFoundError,
    ServerError,
    UnprocessableError,
)
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
from bria_fleet.sim.vision_studio import envelope
from bria_fleet.sim.vs_requests import (
    CaptionImage,
    CaptionVideo,
    GenerateImages,
    GenerateVariation,
    GenerateVector,
)

STATUS_PATH = "/api/v1/bria/status"
VARIATION_VERSIONS = LEGACY_VERSIONS - {"max", "bria-3.2"}


def build_router(sim: Simulator) -> APIRouter:
    """The routes, bound to ``sim``."""
    router = APIRouter()

    async def run(
        request: Request,
        model: Model | None,
        extension: str,
        prompt: str,
        with_prefix: bool,
        count: int,
        aspect_ratio: str,
        seed: int | None,
        sync: bool,
    ) -> dict[str, Any]:
        timing = sim.knobs.timing
        now = sim.clock.now()
        done_at = now + timing.generation_seconds
        seed_values = seeds(sim.rng, seed, count)
        made = outputs(sim.assets, extension, aspect_ratio, seed_values, done_at)
        urls = [sim.url_of(request, asset.id) for asset in made]
        prefix = model.generation_prefix if model is not None and with_prefix else ""
        effective = f"{prefix} {prompt}".strip()
        result: dict[str, Any] = {
            "image_url": urls[0],
            "image_urls": urls,
            "seed": seed_values[0],
            "seeds": seed_values,
            "prompt": effective,
        }
        warning = ip_warning(prompt)
        if warning:
            result["warning"] = warning
        fails = sim.rng.random() < sim.knobs.faults.generation_failure_rate
        job = sim.jobs.add(Job(new_request_id(sim), extension, now, done_at, fails, result))
        if not sync:
            status_url = f"{sim.base_url(request)}{STATUS_PATH}/{job.id}"
            return envelope({"request_id": job.id, "status_url": status_url})
        await asyncio.sleep(timing.generation_seconds)
        if fails:
            raise ServerError("Generation failed. Please try again.")
        return envelope({"request_id": job.id, **result})

    @router.post("/api/v1/bria-lora/image/generation/generate-image")
    async def generate_image(body: GenerateImages, request: Request) -> dict[str, Any]:
        model = trained_model(sim.state, body.model_id, LEGACY_VERSIONS, "generate-image")
        if body.fast and model.training_version in ("max", "bria-3.2"):
            raise BadRequestError(
                "Models trained with the Max/3.2 version do not support fast generation"
            )
        return await run(
            request,
            model,
            "png",
            body.prompt,
            body.include_generation_prefix,
            body.num_results,
            body.aspect_ratio,
            body.seed,
            body.sync,
        )

    @router.post("/api/v1/bria-lora/image/generation/generate-vector")
    async def generate_vector(body: GenerateVector, request: Request) -> dict[str, Any]:
        model = trained_model(sim.state, body.model_id, LEGACY_VERSIONS, "generate-vector")
        urls = check_guidance(
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
        moderate_prompt(body.prompt, body.prompt_content_moderation)
        moderate_inputs(urls, body.content_moderation)
        return await run(
            request,
            model,
            "svg",
            body.prompt,
            body.include_generation_prefix,
            body.num_results,
            body.aspect_ratio,
            body.seed,
            body.sync,
        )

    @router.post("/api/v1/bria/image/generation/generate-variation")
    async def generate_variation(body: GenerateVariation, request: Request) -> dict[str, Any]:
        model = None
        if body.tailored_model_id is not None:
            model = trained_model(
                sim.state, body.tailored_model_id, VARIATION_VERSIONS, "generate-variation"
            )
        if body.num_results > 1 and not body.fast:
            raise BadRequestError("Only 1 result is supported when fast=False")
        if not body.image_url and not body.image_file:
            raise UnprocessableError("Provide image_url or image_file as the reference image")
        if body.image_file and not body.image_url:
            decode_image(body.image_file, "image_file")
        moderate_prompt(body.prompt, body.prompt_content_moderation)
        moderate_inputs([body.image_url], body.content_moderation)
        return await run(
            request,
            model,
            "png",
            body.prompt,
            body.include_generation_prefix,
            body.num_results,
            "1:1",
            body.seed,
            body.sync,
        )

    @router.post("/api/v1/caption/image")
    async def caption_image(body: CaptionImage) -> dict[str, Any]:
        result: dict[str, Any] = {
            "caption": captions.media_caption(body.image_url, body.mode),
            "mode": body.mode,
            "model_provider": body.model_provider,
        }
        if body.mode == "image_tagging":
            result["tags"] = captions.media_tags(body.image_url, body.nbr_tags, body.possible_tags)
        return envelope(result)

    @router.post("/api/v1/caption/video")
    async def caption_video(body: CaptionVideo) -> dict[str, Any]:
        result: dict[str, Any] = {"mode": body.mode}
        if "tag" in body.mode:
            result["tags"] = captions.media_tags(body.video_url, body.nbr_tags, None)
        if body.mode.startswith("segment_timestamps"):
            result["segments"] = [
                {
                    "start": start,
                    "end": start + 2.0,
                    "caption": captions.media_caption(f"{body.video_url}#{start}", body.mode),
                }
                for start in (0.0, 2.0, 4.0)
            ]
        if "tags" not in result or body.mode == "segment_timestamps_tags":
            result["caption"] = captions.media_caption(body.video_url, body.mode)
        return envelope(result)

    @router.get("/api/v1/bria/status/{task_id}")
    async def bria_status(task_id: str) -> dict[str, Any]:
        job = sim.jobs.get(task_id)
        if job is None:
            raise NotFoundError("Request ID not found or expired")
        return job.view(sim.clock.now())

    @router.get("/health")
    async def health() -> dict[str, Any]:
        return envelope({"status": "ok"})

    return router
