"""The documented training flow, end to end, on both backends against the simulator."""

from __future__ import annotations

import httpx

from bria_fleet.api import (
    BriaApi,
    DatasetStatus,
    GenerationResult,
    ImageSource,
    ModelStatus,
    OperationState,
    TailoredImageRequest,
)
from tests.api.sim_support import COMPLETED_DATASET_ID, SimAdmin, png, until_terminal


async def sources(api: BriaApi) -> list[ImageSource]:
    """Three training images in the form the backend takes (bytes, or URLs of real PNGs)."""
    if api.backend == "engine":
        return [ImageSource.from_bytes(png(256, 256, (n * 60, 90, 30))) for n in range(3)]
    seeded = await api.list_images(COMPLETED_DATASET_ID)
    return [ImageSource.from_url(image.image_url or "") for image in seeded]


async def test_project_to_trained_model_to_generated_image(
    either: BriaApi, admin: SimAdmin
) -> None:
    admin.timing(training_seconds=1.0, caption_seconds=0.2, generation_seconds=0.1)
    api = either

    project = await api.find_project_by_name("Flow brand") or await api.create_project(
        name="Flow brand", ip_type="defined_character", ip_medium="illustration", ip_name="Flo"
    )
    dataset = await api.create_dataset(project_id=project.id, name="flow v1")
    images = await sources(api)
    if api.backend == "engine":
        prefix = await api.generate_prefix(images[:2])
    else:
        prefix = "An illustration of a character named Flo,"
    await api.update_dataset(dataset.id, caption_prefix=prefix)
    for number, source in enumerate(images):
        await api.upload_image(dataset.id, source, image_name=f"flo_{number}.png")
    assert len(await api.list_images(dataset.id)) == 3

    await api.regenerate_all_captions(dataset.id)
    captions, _ = await until_terminal(lambda: api.get_caption_update_status(dataset.id))
    assert captions.state is OperationState.COMPLETED
    completed = await api.update_dataset(dataset.id, status=DatasetStatus.COMPLETED)
    assert completed.status is DatasetStatus.COMPLETED

    model = await api.create_model(
        dataset_id=dataset.id, name="flo light", training_version="light"
    )
    assert model.status is ModelStatus.CREATED
    await api.start_training(model.id)
    trained, seen = await until_terminal(lambda: api.get_training_status(model.id))
    assert seen[0].state is OperationState.IN_PROGRESS
    assert trained.state is OperationState.COMPLETED
    assert trained.updated_at is not None
    assert trained.result is not None
    assert trained.result.generation_prefix

    result = await api.text_to_image(model.id, TailoredImageRequest(prompt="Flo waving", seed=7))
    assert isinstance(result, GenerationResult)
    assert result.assets[0].seed == 7
    async with httpx.AsyncClient() as client:
        picture = await client.get(result.assets[0].url)
    assert picture.content.startswith(b"\x89PNG")
    if api.backend == "engine":
        assert (await api.download_model(model.id)).url
