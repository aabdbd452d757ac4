"""The engine backend over real HTTP against the simulator: every route, and its errors."""

from __future__ import annotations

import asyncio
import base64

import httpx
import pytest

from bria_fleet.api import (
    AsyncJob,
    BadRequest,
    BriaApi,
    Conflict,
    DatasetStatus,
    GenerationResult,
    GuidanceMethod,
    ImageSource,
    ModelStatus,
    NotFound,
    OperationState,
    PreconditionFailed,
    RateLimited,
    ReimagineRequest,
    RestylePortraitRequest,
    ServerError,
    TailoredImageRequest,
    Unauthorized,
    UnprocessableEntity,
    UnsupportedMediaType,
    V2ImageRequest,
    V2StructuredPromptRequest,
)
from bria_fleet.sim import SimServer
from tests.api.sim_support import (
    COMPLETED_DATASET_ID,
    DRAFT_DATASET_ID,
    FIBO_MODEL_ID,
    LIGHT_MODEL_ID,
    PROJECT_ID,
    SimAdmin,
    png,
    sim_api,
    until_terminal,
    zip_of,
)


async def new_draft(api: BriaApi, name: str = "ds") -> str:
    project = await api.create_project(
        name=f"p-{name}", ip_type="multi_object_set", ip_medium="illustration"
    )
    return (await api.create_dataset(project_id=project.id, name=name)).id


# Projects


async def test_project_lifecycle(engine: BriaApi) -> None:
    created = await engine.create_project(
        name="Brand", ip_type="defined_character", ip_medium="illustration", ip_name="Lora"
    )
    assert created.name == "Brand"
    assert (await engine.get_project(created.id)).ip_name == "Lora"
    assert created.id in [p.id for p in await engine.list_projects()]
    found = await engine.find_project_by_name("Brand")
    assert found is not None
    assert found.id == created.id
    updated = await engine.update_project(created.id, description="new words")
    assert updated.description == "new words"
    await engine.delete_project(created.id)
    with pytest.raises(NotFound):
        await engine.get_project(created.id)


async def test_create_project_validation_error_is_a_bad_request(engine: BriaApi) -> None:
    with pytest.raises(BadRequest) as caught:
        await engine.create_project(name="x", ip_type="not-a-type", ip_medium="illustration")
    assert caught.value.route == "/v1/tailored-gen/projects"


async def test_a_wrong_token_is_unauthorized(sim: SimServer, admin: SimAdmin) -> None:
    async with sim_api(sim.base_url, "wrong-token", "engine") as api:
        with pytest.raises(Unauthorized) as caught:
            await api.list_projects()
    assert caught.value.retriable is False
    assert "wrong-token" not in str(caught.value)


async def test_deleting_a_project_with_a_model_in_training_conflicts(engine: BriaApi) -> None:
    dataset_id = await new_draft(engine, "busy")
    await engine.upload_image(dataset_id, ImageSource.from_bytes(png()), image_name="a.png")
    await engine.update_dataset(dataset_id, status=DatasetStatus.COMPLETED)
    model = await engine.create_model(dataset_id=dataset_id, name="m", training_version="light")
    await engine.start_training(model.id)
    dataset = await engine.get_dataset(dataset_id)
    with pytest.raises(Conflict):
        await engine.delete_project(dataset.project_id or "")
    with pytest.raises(Conflict):
        await engine.delete_model(model.id)
    with pytest.raises(Conflict):
        await engine.delete_dataset(dataset_id)


# Datasets


async def test_dataset_lifecycle(engine: BriaApi) -> None:
    dataset = await engine.create_dataset(project_id=PROJECT_ID, name="fresh")
    assert (dataset.project_id, dataset.status) == (PROJECT_ID, DatasetStatus.DRAFT)
    assert dataset.id in [d.id for d in await engine.list_datasets()]
    assert dataset.id in [d.id for d in await engine.list_project_datasets(PROJECT_ID)]
    found = await engine.find_dataset_by_name(PROJECT_ID, "fresh")
    assert found is not None
    assert found.id == dataset.id
    updated = await engine.update_dataset(
        dataset.id, name="renamed", caption_prefix="A flat icon of", visual_schema={"a": 1}
    )
    assert (updated.name, updated.caption_prefix) == ("renamed", "A flat icon of")
    assert updated.visual_schema is not None
    clone = await engine.clone_dataset(COMPLETED_DATASET_ID, name="variation")
    assert clone.status is DatasetStatus.DRAFT
    assert clone.id != COMPLETED_DATASET_ID
    await engine.delete_dataset(dataset.id)
    with pytest.raises(NotFound):
        await engine.get_dataset(dataset.id)


async def test_dataset_errors(engine: BriaApi) -> None:
    with pytest.raises(NotFound):
        await engine.create_dataset(project_id="999999", name="orphan")
    with pytest.raises(Conflict):
        await engine.update_dataset(COMPLETED_DATASET_ID, caption_prefix="too late")
    empty = await engine.create_dataset(project_id=PROJECT_ID, name="empty")
    with pytest.raises(Conflict):
        await engine.update_dataset(empty.id, status=DatasetStatus.COMPLETED)
    with pytest.raises(NotFound):
        await engine.clone_dataset("999999")


# Images


async def test_upload_by_bytes_base64_and_url_then_read_them(engine: BriaApi) -> None:
    dataset_id = await new_draft(engine, "uploads")
    data = png()
    by_bytes = await engine.upload_image(
        dataset_id, ImageSource.from_bytes(data), image_name="a.png"
    )
    seeded = await engine.list_images(COMPLETED_DATASET_ID)
    by_url = await engine.upload_image(
        dataset_id, ImageSource.from_url(seeded[0].image_url or ""), image_name="b.png"
    )
    by_b64 = await engine.upload_image(
        dataset_id, ImageSource.from_base64(base64.b64encode(data).decode()), image_name="c.png"
    )
    names = sorted(i.image_name or "" for i in await engine.list_images(dataset_id))
    assert names == ["a.png", "b.png", "c.png"]
    image = await engine.get_image(dataset_id, by_bytes.id)
    assert (image.dataset_id, image.caption_source) == (dataset_id, "automatic")
    assert image.caption
    await engine.delete_image(dataset_id, by_url.id)
    with pytest.raises(NotFound):
        await engine.get_image(dataset_id, by_url.id)
    assert by_b64.id != by_bytes.id


async def test_image_url_fetches_a_real_png(engine: BriaApi) -> None:
    image = (await engine.list_images(COMPLETED_DATASET_ID))[0]
    async with httpx.AsyncClient() as client:
        response = await client.get(image.image_url or "")
    assert response.content.startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (ImageSource.from_bytes(png(64, 64)), PreconditionFailed),
        (ImageSource.from_url("https://example.com/picture.gif"), UnsupportedMediaType),
        (ImageSource.from_url("ftp://example.com/picture.png"), UnprocessableEntity),
        (ImageSource.from_base64("not base64!"), BadRequest),
    ],
    ids=["412-too-small", "415-gif", "422-bad-url", "400-bad-base64"],
)
async def test_upload_errors(engine: BriaApi, source: ImageSource, error: type[Exception]) -> None:
    with pytest.raises(error):
        await engine.upload_image(DRAFT_DATASET_ID, source, image_name="x")


async def test_a_completed_dataset_refuses_uploads_deletes_and_caption_edits(
    engine: BriaApi,
) -> None:
    image = (await engine.list_images(COMPLETED_DATASET_ID))[0]
    with pytest.raises(Conflict):
        await engine.upload_image(COMPLETED_DATASET_ID, ImageSource.from_bytes(png()))
    with pytest.raises(Conflict):
        await engine.delete_image(COMPLETED_DATASET_ID, image.id)
    with pytest.raises(Conflict):
        await engine.set_image_caption(COMPLETED_DATASET_ID, image.id, "no")


async def test_bulk_zip_upload(engine: BriaApi) -> None:
    dataset_id = await new_draft(engine, "bulk")
    archive = zip_of({f"img{n}.png": png(256, 256, (n * 40, 10, 10)) for n in range(3)})
    result = await engine.upload_images_zip(dataset_id, archive)
    assert result.uploaded == 3
    assert len(await engine.list_images(dataset_id)) == 3


async def test_bulk_upload_of_something_not_a_zip_is_a_bad_request(engine: BriaApi) -> None:
    dataset_id = await new_draft(engine, "bulk-bad")
    with pytest.raises(BadRequest):
        await engine.upload_images_zip(dataset_id, b"not a zip")


async def test_captions_set_regenerate_and_regenerate_all(engine: BriaApi, admin: SimAdmin) -> None:
    admin.timing(caption_seconds=0.2)
    image = (await engine.list_images(DRAFT_DATASET_ID))[0]
    manual = await engine.set_image_caption(DRAFT_DATASET_ID, image.id, "waving hello")
    assert (manual.caption, manual.caption_source) == ("waving hello", "manual")
    automatic = await engine.regenerate_image_caption(DRAFT_DATASET_ID, image.id)
    assert automatic.caption_source == "automatic"
    started = await engine.regenerate_all_captions(DRAFT_DATASET_ID)
    assert started.state is OperationState.IN_PROGRESS
    final, _ = await until_terminal(lambda: engine.get_caption_update_status(DRAFT_DATASET_ID))
    assert final.state is OperationState.COMPLETED
    assert final.updated_at is not None
    with pytest.raises(NotFound):
        await engine.set_image_caption(DRAFT_DATASET_ID, "999999", "x")


# Structured data


async def test_prefix_visual_schema_and_refine(engine: BriaApi) -> None:
    urls = [i.image_url or "" for i in await engine.list_images(COMPLETED_DATASET_ID)]
    samples = [ImageSource.from_url(u) for u in urls]
    prefix = await engine.generate_prefix(samples[:2])
    assert isinstance(prefix, str)
    assert prefix
    extra = [ImageSource.from_bytes(png(256, 256, (n, n, n))) for n in range(3)]
    schema = await engine.generate_visual_schema(samples + extra)
    assert schema
    refined = await engine.refine_structured_prompt(schema, "Character's name is Lucy")
    assert "Lucy" in str(refined)
    with pytest.raises(BadRequest):
        await engine.generate_visual_schema(samples[:1])


# Models and training


async def test_model_crud_and_download(engine: BriaApi) -> None:
    model = await engine.create_model(
        dataset_id=COMPLETED_DATASET_ID,
        name="m",
        training_version="max",
        training_mode="expert",
        description="d",
    )
    assert (model.status, model.training_version) == (ModelStatus.CREATED, "max")
    assert model.training_mode == "expert"
    assert (await engine.get_model(model.id)).dataset_id == COMPLETED_DATASET_ID
    assert model.id in [m.id for m in await engine.list_models()]
    assert model.id in [m.id for m in await engine.list_project_models(PROJECT_ID)]
    assert (await engine.update_model(model.id, name="renamed")).name == "renamed"
    download = await engine.download_model(LIGHT_MODEL_ID)
    assert download.url
    await engine.delete_model(model.id)
    with pytest.raises(NotFound):
        await engine.get_model("999999")
    with pytest.raises(BadRequest):
        await engine.create_model(dataset_id=COMPLETED_DATASET_ID, name="m", training_version="xl")
    with pytest.raises(NotFound):
        await engine.create_model(dataset_id="999999", name="m", training_version="light")


async def test_training_preconditions_and_conflicts(engine: BriaApi, admin: SimAdmin) -> None:
    admin.timing(training_seconds=30)
    draft_model = await engine.create_model(
        dataset_id=DRAFT_DATASET_ID, name="early", training_version="light"
    )
    with pytest.raises(PreconditionFailed):
        await engine.start_training(draft_model.id)
    model = await engine.create_model(
        dataset_id=COMPLETED_DATASET_ID, name="m", training_version="light"
    )
    started = await engine.start_training(model.id)
    assert started.status is ModelStatus.IN_PROGRESS
    with pytest.raises(Conflict):
        await engine.start_training(model.id)
    stopping = await engine.stop_training(model.id)
    assert stopping.status in (ModelStatus.STOPPING, ModelStatus.STOPPED)
    final, _ = await until_terminal(lambda: engine.get_training_status(model.id))
    assert final.state is OperationState.STOPPED
    with pytest.raises(Conflict):
        await engine.stop_training(model.id)


# Generation


async def test_v1_text_to_image_and_vector(engine: BriaApi) -> None:
    guidance = GuidanceMethod(
        method="controlnet_canny", scale=0.8, image=ImageSource.from_bytes(png())
    )
    request = TailoredImageRequest(
        prompt="a fox in the snow", num_results=2, guidance_methods=[guidance]
    )
    result = await engine.text_to_image(LIGHT_MODEL_ID, request)
    assert isinstance(result, GenerationResult)
    assert len(result.assets) == 2
    assert all(a.seed is not None for a in result.assets)
    vector = await engine.text_to_vector(LIGHT_MODEL_ID, TailoredImageRequest(prompt="a fox"))
    assert isinstance(vector, GenerationResult)
    async with httpx.AsyncClient() as client:
        svg = await client.get(vector.assets[0].url)
    assert b"<svg" in svg.content


async def test_v1_ip_warning_is_passed_through(engine: BriaApi) -> None:
    request = TailoredImageRequest(prompt="Mickey Mouse drinking a Coca-Cola")
    result = await engine.text_to_image(LIGHT_MODEL_ID, request)
    assert isinstance(result, GenerationResult)
    assert result.ip_warning is not None
    assert "intellectual property" in result.ip_warning


async def test_v1_reimagine_and_restyle_portrait(engine: BriaApi) -> None:
    reimagine = ReimagineRequest(
        prompt="a fox", structure_image=ImageSource.from_bytes(png()), structure_ref_influence=0.6
    )
    result = await engine.reimagine(LIGHT_MODEL_ID, reimagine)
    assert isinstance(result, GenerationResult)
    assert result.assets
    portrait = RestylePortraitRequest(
        tailored_model_id=LIGHT_MODEL_ID, id_image=ImageSource.from_bytes(png()), id_strength=0.7
    )
    restyled = await engine.restyle_portrait(portrait)
    assert isinstance(restyled, GenerationResult)
    assert restyled.assets


async def test_v1_generation_errors(engine: BriaApi) -> None:
    with pytest.raises(NotFound):
        await engine.text_to_image("999999", TailoredImageRequest(prompt="a fox"))
    bad = TailoredImageRequest.model_validate({"prompt": "a fox", "guidance_method_2": "x"})
    with pytest.raises(BadRequest):
        await engine.text_to_image(LIGHT_MODEL_ID, bad)


async def test_v2_sync_generation_answers_the_result(engine: BriaApi) -> None:
    request = V2ImageRequest(tailored_model_id=FIBO_MODEL_ID, prompt="a fox", sync=True)
    result = await engine.generate_image_v2(request)
    assert isinstance(result, GenerationResult)
    assert result.assets
    assert result.structured_prompt
    prompt = await engine.generate_structured_prompt_v2(
        V2StructuredPromptRequest(tailored_model_id=FIBO_MODEL_ID, prompt="a fox", sync=True)
    )
    assert isinstance(prompt, GenerationResult)
    assert prompt.structured_prompt


async def test_v2_async_generation_is_watched_to_completion(
    engine: BriaApi, admin: SimAdmin
) -> None:
    admin.timing(generation_seconds=0.3)
    job = await engine.generate_image_v2(
        V2ImageRequest(tailored_model_id=FIBO_MODEL_ID, prompt="a fox")
    )
    assert isinstance(job, AsyncJob)
    assert job.status_url is not None
    assert job.status_url.endswith(f"/v2/status/{job.request_id}")
    final, seen = await until_terminal(lambda: engine.get_async_result(job.request_id))
    assert seen[0].state is OperationState.IN_PROGRESS
    assert final.state is OperationState.COMPLETED
    assert final.result is not None
    assert final.result.assets
    refined = await engine.generate_structured_prompt_v2(
        V2StructuredPromptRequest(
            tailored_model_id=FIBO_MODEL_ID, prompt="make it red", structured_prompt={"a": 1}
        )
    )
    assert isinstance(refined, AsyncJob)
    done, _ = await until_terminal(lambda: engine.get_async_result(refined.request_id))
    assert done.result is not None
    assert done.result.structured_prompt


async def test_v2_errors(engine: BriaApi) -> None:
    with pytest.raises(NotFound):
        await engine.get_async_result("no-such-request")
    with pytest.raises(BadRequest):
        await engine.generate_image_v2(
            V2ImageRequest(tailored_model_id=LIGHT_MODEL_ID, prompt="a fox", sync=True)
        )


async def test_v2_failed_job_reads_as_failed_with_the_error(
    engine: BriaApi, admin: SimAdmin
) -> None:
    admin.timing(generation_seconds=0.1)
    admin.faults(generation_failure_rate=1.0)
    job = await engine.generate_image_v2(
        V2ImageRequest(tailored_model_id=FIBO_MODEL_ID, prompt="a fox")
    )
    assert isinstance(job, AsyncJob)
    final, _ = await until_terminal(lambda: engine.get_async_result(job.request_id))
    assert final.state is OperationState.FAILED
    assert final.error is not None
    assert final.error.message


# Faults: 429 and 5xx


async def test_a_429_burst_with_retry_after_is_retried_to_success(
    engine: BriaApi, admin: SimAdmin
) -> None:
    admin.faults(
        rate_limits=[
            {
                "pattern": "/v1/tailored-gen/models/*",
                "allowed": 1,
                "burst": 1,
                "retry_after_seconds": 1,
            }
        ]
    )
    await engine.get_model(LIGHT_MODEL_ID)
    loop = asyncio.get_running_loop()
    started = loop.time()
    model = await engine.get_model(LIGHT_MODEL_ID)
    assert model.id == LIGHT_MODEL_ID
    assert loop.time() - started >= 1.0  # the Retry-After of the 429 in between


async def test_a_long_429_burst_surfaces_as_rate_limited_with_retry_after(
    sim: SimServer, admin: SimAdmin
) -> None:
    admin.faults(throttle_seconds=60)
    base_url, token = sim.base_url, sim.token
    async with sim_api(base_url, token, "engine", attempts=2, budget=0.5) as api:
        with pytest.raises(RateLimited) as caught:
            await api.list_models()
    assert caught.value.retriable is True
    assert caught.value.retry_after is not None


async def test_server_errors_are_retried_then_surface(sim: SimServer, admin: SimAdmin) -> None:
    admin.faults(errors=[{"pattern": "/v1/tailored-gen/projects", "rate": 1.0, "status": 503}])
    base_url, token = sim.base_url, sim.token
    async with sim_api(base_url, token, "engine", attempts=3) as api:
        with pytest.raises(ServerError) as caught:
            await api.list_projects()
    assert caught.value.http_status == 503
    calls = admin.calls()
    listed = [c for c in _call_list(calls) if c.get("path") == "/v1/tailored-gen/projects"]
    assert len(listed) == 3


def _call_list(calls: object) -> list[dict[str, object]]:
    if isinstance(calls, dict):
        calls = calls.get("calls", [])
    assert isinstance(calls, list)
    return calls
