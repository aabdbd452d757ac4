"""Generation: images and vectors from tailored models (v1, v2 FIBO, Vision Studio LoRA)."""

import json
from typing import Literal

from bria_fleet import api
from bria_fleet.api import AsyncJob, BriaApi, GenerationResult, OperationState
from bria_fleet.runtime.outcomes import (
    Completed,
    EventData,
    EventSpec,
    JobContext,
    LogicBase,
    PollInput,
    StillRunning,
    Watching,
    operation_failure,
)
from bria_fleet_contracts import (
    FiboGenerateImageRequest,
    FiboStructuredPromptRequest,
    GenerationCompletedData,
    GenerationRequest,
    ReimagineRequest,
    RestylePortraitRequest,
    TextToImageRequest,
    TextToVectorRequest,
)
from bria_fleet_contracts.events.generation import GeneratedAsset

WATCH_KIND = "generation"


def _image(url: str | None, base64: str | None) -> api.ImageSource:
    return api.ImageSource(url=url, base64=base64)


def _guidance(request: TextToImageRequest | TextToVectorRequest) -> list[api.GuidanceMethod]:
    methods = []
    for n in (1, 2):
        method = getattr(request, f"guidance_method_{n}")
        if method is None:
            continue
        scale = getattr(request, f"guidance_method_{n}_scale")
        methods.append(
            api.GuidanceMethod(
                method=method,
                scale=1.0 if scale is None else scale,
                image=_image(
                    getattr(request, f"guidance_method_{n}_image_url"),
                    getattr(request, f"guidance_method_{n}_image_file"),
                ),
            )
        )
    return methods


def _image_prompt(request: TextToImageRequest | TextToVectorRequest) -> api.ImagePrompt | None:
    if request.image_prompt_mode is None:
        return None
    return api.ImagePrompt(
        mode=request.image_prompt_mode,
        scale=1.0 if request.image_prompt_scale is None else request.image_prompt_scale,
        image_base64=request.image_prompt_file,
        image_urls=[str(url) for url in request.image_prompt_urls or []] or None,
    )


def _tailored_image_request(
    request: TextToImageRequest | TextToVectorRequest,
) -> api.TailoredImageRequest:
    return api.TailoredImageRequest(
        prompt=request.prompt,
        num_results=request.num_results,
        aspect_ratio=request.aspect_ratio,
        sync=True if request.sync is None else request.sync,
        seed=request.seed,
        steps_num=request.steps_num,
        fast=request.fast if isinstance(request, TextToImageRequest) else None,
        model_influence=request.model_influence,
        include_generation_prefix=request.include_generation_prefix,
        negative_prompt=request.negative_prompt,
        text_guidance_scale=request.text_guidance_scale,
        guidance_methods=_guidance(request),
        image_prompt=_image_prompt(request),
        content_moderation=request.content_moderation,
        prompt_content_moderation=request.prompt_content_moderation,
    )


async def call_api(
    client: BriaApi, request: GenerationRequest, webhook_url: str | None = None
) -> GenerationResult | AsyncJob:
    """Make the one API call a generation request stands for (asking asynchronous v2
    requests for a webhook at ``webhook_url``, if given)."""
    match request:
        case TextToImageRequest():
            return await client.text_to_image(request.model_id, _tailored_image_request(request))
        case TextToVectorRequest():
            return await client.text_to_vector(request.model_id, _tailored_image_request(request))
        case ReimagineRequest():
            structure = _image(request.structure_image_url, request.structure_image_file)
            return await client.reimagine(
                request.model_id,
                api.ReimagineRequest(
                    prompt=request.prompt,
                    structure_image=structure,
                    structure_ref_influence=request.structure_ref_influence,
                    tailored_model_influence=request.model_influence,
                    num_results=request.num_results,
                    sync=True if request.sync is None else request.sync,
                    seed=request.seed,
                    steps_num=request.steps_num,
                    fast=request.fast,
                    include_generation_prefix=request.include_generation_prefix,
                    content_moderation=request.content_moderation,
                    prompt_content_moderation=request.prompt_content_moderation,
                ),
            )
        case RestylePortraitRequest():
            return await client.restyle_portrait(
                api.RestylePortraitRequest(
                    tailored_model_id=request.model_id,
                    id_image=_image(request.id_image_url, request.id_image_file),
                    tailored_model_influence=request.model_influence,
                    id_strength=request.id_strength,
                    seed=request.seed,
                )
            )
        case FiboGenerateImageRequest():
            return await client.generate_image_v2(
                api.V2ImageRequest(
                    tailored_model_id=request.model_id,
                    prompt=request.prompt,
                    structured_prompt=request.structured_prompt,
                    seed=request.seed,
                    tailored_model_influence=request.model_influence,
                    aspect_ratio=request.aspect_ratio,
                    negative_prompt=request.negative_prompt,
                    prompt_content_moderation=request.prompt_content_moderation,
                    webhook_url=webhook_url,
                )
            )
        case FiboStructuredPromptRequest():
            return await client.generate_structured_prompt_v2(
                api.V2StructuredPromptRequest(
                    tailored_model_id=request.model_id,
                    prompt=request.prompt,
                    structured_prompt=request.structured_prompt,
                    seed=request.seed,
                    webhook_url=webhook_url,
                )
            )


def _asset_kind(request: GenerationRequest) -> Literal["image", "vector"]:
    return "vector" if isinstance(request, TextToVectorRequest) else "image"


def completed(request: GenerationRequest, result: GenerationResult) -> Completed:
    """The generated-asset event of a finished generation."""
    structured = result.structured_prompt
    data = GenerationCompletedData(
        op=request.op,
        model_id=request.model_id,
        assets=[
            GeneratedAsset(url=asset.url, kind=_asset_kind(request), seed=asset.seed)
            for asset in result.assets
        ],
        structured_prompt=json.dumps(structured) if isinstance(structured, dict) else structured,
        ip_warning=result.ip_warning,
        api_request_id=result.request_id,
        request=request,
    )
    return Completed(EventSpec("generation.completed", data), values=data.placeholders())


class _AsyncGenerationWatch:
    """Polls an asynchronous (v2 or Vision Studio) generation until it finishes."""

    async def poll(self, poll: PollInput[GenerationRequest]) -> Completed | StillRunning:
        status = await poll.api.get_async_result(poll.target_id)
        if status.state is OperationState.COMPLETED and status.result is not None:
            result = status.result
            if result.request_id is None:  # a status body's result does not repeat its id
                result = result.model_copy(update={"request_id": poll.target_id})
            done = completed(poll.request, result)
            return Completed(done.event, done.values, completed_at=status.updated_at)
        failure = operation_failure(
            status,
            "generation_failed",
            f"the API reports request {poll.target_id} as {status.raw_status}",
        )
        if failure is not None:
            raise failure
        return StillRunning(status=status.state.value)


class GenerationLogic(LogicBase[GenerationRequest]):
    """The generation domain: one API call per job, async ones followed by the watcher."""

    domain = "generation"

    def __init__(self) -> None:
        super().__init__({WATCH_KIND: _AsyncGenerationWatch()})

    def failure_data(self, request: GenerationRequest) -> EventData:
        """What a failure event says the job was about."""
        return {"op": request.op, "model_id": request.model_id}

    async def run(self, request: GenerationRequest, context: JobContext) -> Completed | Watching:
        """Generate; an asynchronous answer becomes a watch on its request id."""
        outcome = await call_api(context.api, request, context.webhook_url)
        if isinstance(outcome, AsyncJob):
            return Watching(kind=WATCH_KIND, target_id=outcome.request_id, status="in_progress")
        return completed(request, outcome)
