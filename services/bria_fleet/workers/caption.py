"""Captions: prefixes, visual schemas, refined structured data, dataset and standalone captions."""

import json
from typing import Literal, cast, get_args

from pydantic import JsonValue

from bria_fleet import api
from bria_fleet.api import BriaApi, Dataset, DatasetStatus, OperationState, StructuredData
from bria_fleet.runtime.outcomes import (
    Completed,
    EventData,
    EventSpec,
    JobContext,
    JobError,
    LogicBase,
    PollInput,
    StillRunning,
    Watching,
    operation_failure,
)
from bria_fleet_contracts import (
    CaptionMediaRequest,
    CaptionRequest,
    CaptionsRegeneratedResult,
    CaptionUpdatedResult,
    GeneratePrefixRequest,
    GenerateVisualSchemaRequest,
    ImageRef,
    MediaCaptionResult,
    PrefixResult,
    RefinedPromptResult,
    RefineStructuredPromptRequest,
    RegenerateAllCaptionsRequest,
    UpdateCaptionRequest,
    VisualSchemaResult,
)
from bria_fleet_contracts.caption import PrefixIpType
from bria_fleet_contracts.events.caption import CaptionResult

WATCH_KIND = "captions"
COMPLETED = "caption.completed"
PREFIX_IP_TYPES: frozenset[str] = frozenset(get_args(PrefixIpType))
CaptionSource = Literal["automatic", "manual", "unknown"]
CAPTION_SOURCES: frozenset[str] = frozenset(get_args(CaptionSource))


def _sources(images: list[ImageRef]) -> list[api.ImageSource]:
    return [api.ImageSource(url=image.url, base64=image.base64) for image in images]


def _text(value: StructuredData) -> str:
    """Structured data as the JSON text the events carry."""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def completed(result: CaptionResult, **values: str | None) -> Completed:
    """``caption.completed`` with ``result``; its scalar fields and ``values`` feed follow-ups."""
    extra = {name: value for name, value in values.items() if value is not None}
    return Completed(EventSpec(COMPLETED, result), values={**result.placeholders(), **extra})


async def draft_dataset(client: BriaApi, dataset_id: str, what: str) -> Dataset:
    """The dataset, which must still be a draft because ``what`` is about to change."""
    dataset = await client.get_dataset(dataset_id)
    if dataset.status is DatasetStatus.COMPLETED:
        raise JobError(
            "dataset_completed",
            f"dataset {dataset_id} is completed, so its {what} cannot change; "
            "clone it as a draft dataset and send the request for the clone",
        )
    return dataset


async def _project_ip_type(client: BriaApi, dataset: Dataset) -> str | None:
    if dataset.project_id is None:
        return None
    return (await client.get_project(dataset.project_id)).ip_type


async def generate_prefix(client: BriaApi, request: GeneratePrefixRequest) -> Completed:
    """Generate a caption prefix from the samples; set it on the dataset when one is named."""
    ip_type: str | None = request.ip_type
    if request.dataset_id is not None:
        dataset = await draft_dataset(client, request.dataset_id, "caption prefix")
        ip_type = ip_type or await _project_ip_type(client, dataset)
    if ip_type is not None and ip_type not in PREFIX_IP_TYPES:
        raise JobError(
            "unsupported_ip_type",
            f"a caption prefix can be generated only for the IP types "
            f"{', '.join(sorted(PREFIX_IP_TYPES))}; dataset {request.dataset_id}'s project "
            f"is {ip_type} (keep its default prefix)",
        )
    prefix = await client.generate_prefix(
        _sources(request.images), content_moderation=request.content_moderation
    )
    if request.dataset_id is not None:
        await client.update_dataset(request.dataset_id, caption_prefix=prefix)
    result = PrefixResult(caption_prefix=prefix, dataset_id=request.dataset_id)
    return completed(result)


async def generate_visual_schema(
    client: BriaApi, request: GenerateVisualSchemaRequest
) -> Completed:
    """Generate a FIBO visual schema from the samples; set it on the dataset when one is named."""
    if request.dataset_id is not None:
        await draft_dataset(client, request.dataset_id, "visual schema")
    schema = await client.generate_visual_schema(_sources(request.images))
    if request.dataset_id is not None:
        await client.update_dataset(request.dataset_id, visual_schema=schema)
    result = VisualSchemaResult(visual_schema=_text(schema), dataset_id=request.dataset_id)
    return completed(result)


async def refine_structured_prompt(
    client: BriaApi, request: RefineStructuredPromptRequest
) -> Completed:
    """Refine a schema or caption by an instruction; write it back where ``apply_to`` says."""
    if request.apply_to is not None:
        target = "visual schema" if request.apply_to == "visual_schema" else "image captions"
        await draft_dataset(client, request.dataset_id, target)
    refined = await client.refine_structured_prompt(request.structured_prompt, request.instruction)
    if request.apply_to == "visual_schema":
        await client.update_dataset(request.dataset_id, visual_schema=refined)
    elif request.apply_to == "image_caption" and request.image_id is not None:
        await client.set_image_caption(request.dataset_id, request.image_id, _text(refined))
    result = RefinedPromptResult(
        structured_prompt=_text(refined),
        dataset_id=request.dataset_id,
        applied_to=request.apply_to,
        image_id=request.image_id,
    )
    return completed(result)


async def start_regeneration(client: BriaApi, request: RegenerateAllCaptionsRequest) -> Watching:
    """Start regenerating every caption (or join a regeneration already running) and watch it.

    A redelivered request whose first delivery started the regeneration finds it in progress
    and does not start it again.
    """
    status = await client.get_caption_update_status(request.dataset_id)
    if status.state is not OperationState.IN_PROGRESS:
        status = await client.regenerate_all_captions(request.dataset_id)
    return Watching(kind=WATCH_KIND, target_id=request.dataset_id, status=status.state.value)


async def captions_regenerated(client: BriaApi, dataset: Dataset) -> Completed:
    """The event of a finished regeneration: every image's caption as it now stands."""
    images = await client.list_images(dataset.id)
    captions = {image.id: image.caption for image in images if image.caption is not None}
    result = CaptionsRegeneratedResult(
        dataset_id=dataset.id, images_count=len(images), captions=captions
    )
    return completed(result, caption_prefix=dataset.caption_prefix)


async def update_caption(client: BriaApi, request: UpdateCaptionRequest) -> Completed:
    """Set one image's caption, or have the API caption it again."""
    if request.caption is not None:
        image = await client.set_image_caption(
            request.dataset_id, request.image_id, request.caption
        )
    else:
        image = await client.regenerate_image_caption(request.dataset_id, request.image_id)
    source = (image.caption_source or "").lower()
    result = CaptionUpdatedResult(
        dataset_id=request.dataset_id,
        image_id=request.image_id,
        caption=image.caption,
        caption_source=cast(CaptionSource, source) if source in CAPTION_SOURCES else None,
    )
    return completed(result)


async def caption_media(client: BriaApi, request: CaptionMediaRequest) -> Completed:
    """Caption a standalone image or video (Vision Studio only)."""
    if request.kind == "image":
        answer = await client.caption_image(
            api.ImageCaptionRequest(
                image_url=request.media_url,
                mode=request.mode or "simple",
                model_provider=request.model_provider or "openai",
                nbr_tags=request.nbr_tags,
                possible_tags=request.possible_tags,
            )
        )
    else:
        answer = await client.caption_video(
            api.VideoCaptionRequest(
                video_url=request.media_url,
                mode=request.mode or "simple",
                nbr_tags=request.nbr_tags,
            )
        )
    result = MediaCaptionResult(
        media_url=request.media_url,
        kind=request.kind,
        caption=answer.caption,
        tags=answer.tags,
        raw=answer.raw,
    )
    return completed(result)


class _CaptionsWatch:
    """Polls a dataset's ``captions_update_status`` until the regeneration ends."""

    async def poll(self, poll: PollInput[CaptionRequest]) -> Completed | StillRunning:
        status = await poll.api.get_caption_update_status(poll.target_id)
        if status.state is OperationState.COMPLETED and status.result is not None:
            done = await captions_regenerated(poll.api, status.result)
            return Completed(done.event, done.values, completed_at=status.updated_at)
        failure = operation_failure(
            status,
            "caption_update_failed",
            f"regenerating the captions of dataset {poll.target_id} failed "
            f"(captions_update_status {status.raw_status})",
        )
        if failure is not None:
            raise failure
        return StillRunning(status=status.state.value)


class CaptionLogic(LogicBase[CaptionRequest]):
    """The caption domain: one or a few API calls per job; regenerate-all is watched."""

    domain = "caption"

    def __init__(self) -> None:
        super().__init__({WATCH_KIND: _CaptionsWatch()})

    def failure_data(self, request: CaptionRequest) -> EventData:
        """What a failure event says the job was about: the op, and its dataset and image."""
        data: dict[str, JsonValue] = {"op": request.op}
        for field in ("dataset_id", "image_id"):
            value = getattr(request, field, None)
            if value is not None:
                data[field] = value
        return data

    async def run(self, request: CaptionRequest, context: JobContext) -> Completed | Watching:
        """Do the op; regenerate-all becomes a watch on the dataset."""
        client = context.api
        match request:
            case GeneratePrefixRequest():
                return await generate_prefix(client, request)
            case GenerateVisualSchemaRequest():
                return await generate_visual_schema(client, request)
            case RefineStructuredPromptRequest():
                return await refine_structured_prompt(client, request)
            case RegenerateAllCaptionsRequest():
                return await start_regeneration(client, request)
            case UpdateCaptionRequest():
                return await update_caption(client, request)
            case CaptionMediaRequest():
                return await caption_media(client, request)
