"""The Vision Studio backend over real HTTP against the simulator: every route, its errors."""

from __future__ import annotations

import pytest

from bria_fleet.api import (
    AsyncJob,
    BriaApi,
    Conflict,
    DatasetStatus,
    GenerationResult,
    GuidanceMethod,
    ImageCaptionRequest,
    ImageSource,
    ModelStatus,
    NotFound,
    OperationState,
    PreconditionFailed,
    ReimagineRequest,
    ServerError,
    TailoredImageRequest,
    Unauthorized,
    UnprocessableEntity,
    VideoCaptionRequest,
)
from bria_fleet.sim import SimServer
from tests.api.sim_support import (
    COMPLETED_DATASET_ID,
    DRAFT_DATASET_ID,
    LIGHT_MODEL_ID,
    PROJECT_ID,
    SimAdmin,
    sim_api,
    until_terminal,
)


async def test_project_lifecycle(studio: BriaApi) -> None:
    created = await studio.create_project(
        name="Gateway brand", ip_type="style", ip_medium="photography", description="d"
    )
    assert (await studio.get_project(created.id)).name == "Gateway brand"
    assert created.id in [p.id for p in await studio.list_projects()]
    updated = await studio.update_project(created.id, name="Renamed", ip_description="x")
    assert updated.name == "Renamed"
    found = await studio.find_project_by_name("Renamed")
    assert found is not None
    await studio.delete_project(created.id)
    with pytest.raises(NotFound):
        await studio.get_project(created.id)


async def test_schema_violations_are_unprocessable(studio: BriaApi) -> None:
    with pytest.raises(UnprocessableEntity) as caught:
        await studio.create_project(name="x", ip_type="icons", ip_medium="illustration")
    assert caught.value.api_message is not None
    assert "ip_type" in caught.value.api_message
    with pytest.raises(UnprocessableEntity):
        await studio.create_model(
            dataset_id=COMPLETED_DATASET_ID, name="m", training_version="fibo"
        )


async def test_a_wrong_key_is_unauthorized(sim: SimServer, admin: SimAdmin) -> None:
    base_url = sim.base_url
    async with sim_api(base_url, "wrong-key", "vision-studio") as api:
        with pytest.raises(Unauthorized):
            await api.list_models()


async def test_dataset_lifecycle(studio: BriaApi) -> None:
    dataset = await studio.create_dataset(project_id=PROJECT_ID, name="gw")
    assert dataset.status is DatasetStatus.DRAFT
    assert dataset.id in [d.id for d in await studio.list_datasets()]
    assert dataset.id in [d.id for d in await studio.list_project_datasets(PROJECT_ID)]
    updated = await studio.update_dataset(dataset.id, name="gw2", caption_prefix="A photo of")
    assert (updated.name, updated.caption_prefix) == ("gw2", "A photo of")
    await studio.delete_dataset(dataset.id)
    with pytest.raises(NotFound):
        await studio.get_dataset(dataset.id)


async def test_images_and_captions(studio: BriaApi, admin: SimAdmin) -> None:
    admin.timing(caption_seconds=0.2)
    seeded = await studio.list_images(COMPLETED_DATASET_ID)
    image = await studio.upload_image(
        DRAFT_DATASET_ID, ImageSource.from_url(seeded[0].image_url or ""), image_name="new.png"
    )
    assert image.image_name == "new.png"
    assert image.id in [i.id for i in await studio.list_images(DRAFT_DATASET_ID)]
    assert (await studio.get_image(DRAFT_DATASET_ID, image.id)).dataset_id == DRAFT_DATASET_ID
    manual = await studio.set_image_caption(DRAFT_DATASET_ID, image.id, "a manual caption")
    assert manual.caption == "a manual caption"
    regenerated = await studio.regenerate_image_caption(DRAFT_DATASET_ID, image.id)
    assert regenerated.caption_source == "automatic"
    await studio.regenerate_all_captions(DRAFT_DATASET_ID)
    final, _ = await until_terminal(lambda: studio.get_caption_update_status(DRAFT_DATASET_ID))
    assert final.state is OperationState.COMPLETED
    await studio.delete_image(DRAFT_DATASET_ID, image.id)
    with pytest.raises(NotFound):
        await studio.get_image(DRAFT_DATASET_ID, image.id)


async def test_a_completed_dataset_refuses_uploads(studio: BriaApi) -> None:
    with pytest.raises(Conflict):
        await studio.upload_image(COMPLETED_DATASET_ID, ImageSource.from_url("https://x/a.png"))


async def test_model_crud_and_training(studio: BriaApi, admin: SimAdmin) -> None:
    admin.timing(training_seconds=30)
    model = await studio.create_model(
        dataset_id=COMPLETED_DATASET_ID, name="gw model", training_version="light"
    )
    assert model.status is ModelStatus.CREATED
    assert model.id in [m.id for m in await studio.list_models()]
    assert model.id in [m.id for m in await studio.list_project_models(PROJECT_ID)]
    assert (await studio.update_model(model.id, description="d")).description == "d"
    assert (await studio.start_training(model.id)).status is ModelStatus.IN_PROGRESS
    with pytest.raises(Conflict):
        await studio.start_training(model.id)
    with pytest.raises(Conflict):
        await studio.delete_model(model.id)
    await studio.stop_training(model.id)
    final, _ = await until_terminal(lambda: studio.get_training_status(model.id))
    assert final.state is OperationState.STOPPED
    await studio.delete_model(model.id)
    with pytest.raises(NotFound):
        await studio.get_model(model.id)


async def test_training_needs_a_completed_dataset(studio: BriaApi) -> None:
    model = await studio.create_model(
        dataset_id=DRAFT_DATASET_ID, name="early", training_version="max"
    )
    with pytest.raises(PreconditionFailed):
        await studio.start_training(model.id)


async def test_lora_generation_sync_and_async(studio: BriaApi, admin: SimAdmin) -> None:
    admin.timing(generation_seconds=0.2)
    result = await studio.text_to_image(
        LIGHT_MODEL_ID, TailoredImageRequest(prompt="a fox in the snow", num_results=2)
    )
    assert isinstance(result, GenerationResult)
    assert len(result.assets) == 2
    assert len({a.seed for a in result.assets}) == 2
    guidance = GuidanceMethod(
        method="controlnet_depth", image=ImageSource.from_url("https://g/1.png")
    )
    job = await studio.text_to_vector(
        LIGHT_MODEL_ID,
        TailoredImageRequest(prompt="a fox", sync=False, guidance_methods=[guidance]),
    )
    assert isinstance(job, AsyncJob)
    final, seen = await until_terminal(lambda: studio.get_async_result(job.request_id))
    assert seen[0].state is OperationState.IN_PROGRESS
    assert final.state is OperationState.COMPLETED
    assert final.result is not None
    assert final.result.assets[0].url.endswith(".svg")


async def test_lora_generation_passes_the_ip_warning(studio: BriaApi) -> None:
    result = await studio.text_to_image(
        LIGHT_MODEL_ID, TailoredImageRequest(prompt="Mickey Mouse drinking a Coca-Cola")
    )
    assert isinstance(result, GenerationResult)
    assert result.ip_warning is not None


async def test_reimagine_is_a_tailored_variation(studio: BriaApi) -> None:
    request = ReimagineRequest(
        prompt="a fox", structure_image=ImageSource.from_url("https://s/1.png"), fast=False
    )
    result = await studio.reimagine(LIGHT_MODEL_ID, request)
    assert isinstance(result, GenerationResult)
    assert result.assets


async def test_standalone_captions(studio: BriaApi) -> None:
    image = await studio.caption_image(ImageCaptionRequest(image_url="https://x/fox.png"))
    assert image.caption
    tagged = await studio.caption_image(
        ImageCaptionRequest(image_url="https://x/fox.png", mode="image_tagging", nbr_tags=3)
    )
    assert len(tagged.tags) == 3
    video = await studio.caption_video(VideoCaptionRequest(video_url="https://x/v.mp4"))
    assert video.caption


async def test_generation_errors(studio: BriaApi, admin: SimAdmin) -> None:
    with pytest.raises(NotFound):
        await studio.get_async_result("no-such-task")
    with pytest.raises(NotFound):
        await studio.text_to_image("999999", TailoredImageRequest(prompt="a fox"))
    admin.faults(errors=[{"pattern": "/api/v1/caption/*", "rate": 1.0, "status": 500}])
    with pytest.raises(ServerError):
        await studio.caption_image(ImageCaptionRequest(image_url="https://x/fox.png"))
