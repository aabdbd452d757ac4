"""What the Vision Studio backend sends and how it unwraps the envelope (mock transport)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bria_fleet.api import (
    AsyncJob,
    BriaApiError,
    DatasetStatus,
    GenerationResult,
    GuidanceMethod,
    ImageCaptionRequest,
    ImageSource,
    ModelStatus,
    OperationState,
    ReimagineRequest,
    RestylePortraitRequest,
    TailoredImageRequest,
    UnsupportedOperation,
    V2ImageRequest,
    VideoCaptionRequest,
)
from tests.api.conftest import TOKEN, Recorder, json_response, make_api


def envelope(result: Any) -> httpx.Response:
    return json_response(200, {"status": "success", "result": result})


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


async def test_requests_carry_the_x_api_key_header_only() -> None:
    recorder = Recorder(envelope([]))
    await make_api(recorder, backend="vision-studio").list_projects()
    assert recorder.last.headers["x-api-key"] == TOKEN
    assert "api_token" not in recorder.last.headers
    assert recorder.last.url == "https://bria.test/api/v1/bria-lora/projects"


async def test_the_envelope_result_is_read_as_our_model() -> None:
    recorder = Recorder(envelope({"id": 12, "project_name": "Brand", "status": "active"}))
    project = await make_api(recorder, backend="vision-studio").get_project("12")
    assert recorder.last.url.path == "/api/v1/bria-lora/projects/12"
    assert (project.id, project.name) == ("12", "Brand")


async def test_bodies_repeat_path_ids_as_integers() -> None:
    recorder = Recorder(envelope({"id": 12, "project_name": "New"}))
    api = make_api(recorder, backend="vision-studio")
    await api.update_project("12", name="New")
    assert body_of(recorder.last) == {"project_id": 12, "project_name": "New"}
    recorder.answers = [envelope({"id": 4, "status": "completed"})]
    dataset = await api.update_dataset("4", status=DatasetStatus.COMPLETED, caption_prefix="A ")
    assert body_of(recorder.last) == {
        "dataset_id": 4,
        "caption_prefix": "A ",
        "status": "completed",
    }
    assert dataset.status is DatasetStatus.COMPLETED


async def test_a_non_integer_id_is_refused_before_any_request() -> None:
    recorder = Recorder(envelope({}))
    with pytest.raises(BriaApiError, match="positive integer"):
        await make_api(recorder, backend="vision-studio").update_model("abc", name="x")
    assert recorder.requests == []


async def test_upload_by_url_and_caption_updates_use_the_gateway_routes() -> None:
    recorder = Recorder(envelope({"id": 9, "dataset_id": 4, "image_name": "a.png"}))
    api = make_api(recorder, backend="vision-studio")
    await api.upload_image("4", ImageSource.from_url("https://x/a.png"), image_name="a.png")
    assert body_of(recorder.last) == {
        "dataset_id": 4,
        "image_url": "https://x/a.png",
        "image_name": "a.png",
    }
    await api.set_image_caption("4", "9", "a cat")
    assert recorder.last.url.path == "/api/v1/bria-lora/datasets/4/images/9/caption"
    assert body_of(recorder.last) == {"image_id": 9, "dataset_id": 4, "caption": "a cat"}
    await api.regenerate_image_caption("4", "9")
    assert body_of(recorder.last) == {"image_id": 9, "dataset_id": 4, "regenerate_caption": True}


async def test_regenerate_all_then_read_the_dataset_when_the_answer_has_no_dataset() -> None:
    recorder = Recorder(
        envelope("Regeneration started"),
        envelope({"id": 4, "captions_update_status": "in_progress"}),
    )
    status = await make_api(recorder, backend="vision-studio").regenerate_all_captions("4")
    assert [(r.method, r.url.path) for r in recorder.requests] == [
        ("PUT", "/api/v1/bria-lora/datasets/4/images/captions"),
        ("GET", "/api/v1/bria-lora/datasets/4"),
    ]
    assert status.state is OperationState.IN_PROGRESS


async def test_training_routes_use_the_training_sub_path() -> None:
    recorder = Recorder(envelope({"id": 5, "status": "Training In Progress"}))
    model = await make_api(recorder, backend="vision-studio").start_training("5")
    assert recorder.last.url.path == "/api/v1/bria-lora/models/5/training/start"
    assert model.status is ModelStatus.IN_PROGRESS
    recorder.answers = [envelope({"id": 5, "status": "stopped"})]
    model = await make_api(recorder, backend="vision-studio").stop_training("5")
    assert recorder.last.url.path == "/api/v1/bria-lora/models/5/training/stop"
    assert model.status is ModelStatus.STOPPED


async def test_lora_generate_image_sends_the_model_id_as_a_string() -> None:
    recorder = Recorder(envelope({"images": [{"url": "https://r/1.png", "seed": 2}]}))
    request = TailoredImageRequest(prompt="a fox", num_results=1, model_influence=0.8)
    result = await make_api(recorder, backend="vision-studio").text_to_image("5", request)
    assert recorder.last.url.path == "/api/v1/bria-lora/image/generation/generate-image"
    assert body_of(recorder.last) == {
        "model_id": "5",
        "prompt": "a fox",
        "num_results": 1,
        "sync": True,
        "model_influence": 0.8,
    }
    assert isinstance(result, GenerationResult)
    assert result.assets[0].seed == 2


async def test_lora_generate_image_refuses_fields_its_schema_lacks() -> None:
    recorder = Recorder(envelope({}))
    guidance = GuidanceMethod(method="controlnet_canny", image=ImageSource.from_url("https://g"))
    request = TailoredImageRequest(prompt="a fox", guidance_methods=[guidance])
    with pytest.raises(UnsupportedOperation, match="guidance_methods"):
        await make_api(recorder, backend="vision-studio").text_to_image("5", request)
    assert recorder.requests == []


async def test_lora_generate_vector_takes_guidance_and_async_answers_a_job() -> None:
    recorder = Recorder(envelope({"request_id": "t-1", "status_url": "https://vs/status/t-1"}))
    guidance = GuidanceMethod(method="controlnet_depth", image=ImageSource.from_url("https://g"))
    request = TailoredImageRequest(prompt="a fox", sync=False, guidance_methods=[guidance])
    job = await make_api(recorder, backend="vision-studio").text_to_vector("5", request)
    assert recorder.last.url.path == "/api/v1/bria-lora/image/generation/generate-vector"
    assert body_of(recorder.last)["guidance_method_1_image_url"] == "https://g"
    assert job == AsyncJob(request_id="t-1", status_url="https://vs/status/t-1")


async def test_reimagine_maps_to_tailored_variation() -> None:
    recorder = Recorder(envelope({"urls": ["https://r/v.png"]}))
    request = ReimagineRequest(
        prompt="a fox",
        structure_image=ImageSource.from_base64("QUJD"),
        structure_ref_influence=0.6,
        tailored_model_influence=0.5,
    )
    await make_api(recorder, backend="vision-studio").reimagine("5", request)
    assert recorder.last.url.path == "/api/v1/bria/image/generation/generate-variation"
    assert body_of(recorder.last) == {
        "prompt": "a fox",
        "tailored_model_influence": 0.5,
        "sync": True,
        "tailored_model_id": "5",
        "ref_image_influence": 0.6,
        "image_file": "QUJD",
    }


async def test_status_is_read_without_an_envelope() -> None:
    answer = {"status": "COMPLETED", "request_id": "t-1", "result": {"image_url": "https://r"}}
    recorder = Recorder(json_response(200, answer))
    status = await make_api(recorder, backend="vision-studio").get_async_result("t-1")
    assert recorder.last.url.path == "/api/v1/bria/status/t-1"
    assert status.state is OperationState.COMPLETED
    assert status.result is not None
    assert status.result.assets[0].url == "https://r"


async def test_caption_image_always_sends_possible_tags() -> None:
    recorder = Recorder(envelope({"caption": "a red fox", "tags": []}))
    result = await make_api(recorder, backend="vision-studio").caption_image(
        ImageCaptionRequest(image_url="https://x/a.png")
    )
    assert body_of(recorder.last) == {
        "image_url": "https://x/a.png",
        "mode": "simple",
        "model_provider": "openai",
        "possible_tags": None,
    }
    assert result.caption == "a red fox"


async def test_caption_video_reads_a_plain_string_result() -> None:
    recorder = Recorder(envelope("a short film"))
    result = await make_api(recorder, backend="vision-studio").caption_video(
        VideoCaptionRequest(video_url="https://x/v.mp4", mode="detailed")
    )
    assert recorder.last.url.path == "/api/v1/caption/video"
    assert result.caption == "a short film"


@pytest.mark.parametrize(
    "call",
    [
        lambda api: api.upload_image("4", ImageSource.from_bytes(b"png")),
        lambda api: api.upload_images_zip("4", b"zip"),
        lambda api: api.clone_dataset("4"),
        lambda api: api.generate_prefix([ImageSource.from_url("https://x")]),
        lambda api: api.generate_visual_schema([ImageSource.from_url("https://x")]),
        lambda api: api.refine_structured_prompt("{}", "x"),
        lambda api: api.update_dataset("4", visual_schema={"a": 1}),
        lambda api: api.create_model(
            dataset_id="4", name="m", training_version="max", training_mode="expert"
        ),
        lambda api: api.download_model("5"),
        lambda api: api.restyle_portrait(
            RestylePortraitRequest(
                tailored_model_id="5", id_image=ImageSource.from_url("https://x")
            )
        ),
        lambda api: api.generate_image_v2(V2ImageRequest(tailored_model_id="5", prompt="x")),
    ],
    ids=[
        "upload-bytes",
        "bulk",
        "clone",
        "prefix",
        "visual-schema",
        "refine",
        "dataset-visual-schema",
        "training-mode",
        "download",
        "restyle",
        "v2",
    ],
)
async def test_operations_the_gateway_lacks_raise_unsupported_without_a_request(call: Any) -> None:
    recorder = Recorder(envelope({}))
    with pytest.raises(UnsupportedOperation, match="vision-studio backend"):
        await call(make_api(recorder, backend="vision-studio"))
    assert recorder.requests == []
