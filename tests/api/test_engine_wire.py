"""What the engine backend sends and how it reads the answers (over a mock transport)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bria_fleet.api import (
    AsyncJob,
    DatasetStatus,
    GenerationResult,
    GuidanceMethod,
    ImageCaptionRequest,
    ImagePrompt,
    ImageSource,
    ModelStatus,
    OperationKind,
    OperationState,
    ReimagineRequest,
    RestylePortraitRequest,
    TailoredImageRequest,
    UnsupportedOperation,
    V2ImageRequest,
    V2StructuredPromptRequest,
)
from tests.api.conftest import TOKEN, Recorder, json_response, make_api


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


async def test_requests_carry_the_api_token_header_only() -> None:
    recorder = Recorder(json_response(200, []))
    await make_api(recorder).list_projects()
    assert recorder.last.headers["api_token"] == TOKEN
    assert "x-api-key" not in recorder.last.headers
    assert recorder.last.url == "https://bria.test/v1/tailored-gen/projects"


async def test_create_project_sends_documented_fields_and_reads_the_201() -> None:
    answer = {"id": 123, "project_name": "Brand", "ip_type": "defined_character"}
    recorder = Recorder(json_response(201, answer))
    project = await make_api(recorder).create_project(
        name="Brand", ip_type="defined_character", ip_medium="illustration", ip_name="Lora"
    )
    assert recorder.last.method == "POST"
    assert body_of(recorder.last) == {
        "project_name": "Brand",
        "ip_name": "Lora",
        "ip_medium": "illustration",
        "ip_type": "defined_character",
    }
    assert (project.id, project.name) == ("123", "Brand")


async def test_find_project_by_name_returns_the_match_or_none() -> None:
    projects = [{"id": 1, "project_name": "a"}, {"id": 2, "project_name": "b"}]
    api = make_api(Recorder(json_response(200, projects)))
    found = await api.find_project_by_name("b")
    assert found is not None
    assert found.id == "2"
    assert await api.find_project_by_name("c") is None


async def test_create_dataset_sends_the_project_id_as_an_integer() -> None:
    recorder = Recorder(json_response(201, {"id": 456, "project_id": 123, "status": "draft"}))
    dataset = await make_api(recorder).create_dataset(project_id="123", name="v1")
    assert body_of(recorder.last) == {"project_id": 123, "name": "v1"}
    assert dataset.status is DatasetStatus.DRAFT


async def test_completing_a_dataset_sends_the_current_lowercase_status() -> None:
    recorder = Recorder(json_response(200, {"id": 456, "status": "completed"}))
    await make_api(recorder).update_dataset("456", status=DatasetStatus.COMPLETED)
    assert recorder.last.method == "PUT"
    assert recorder.last.url.path == "/v1/tailored-gen/datasets/456"
    assert body_of(recorder.last) == {"status": "completed"}


async def test_visual_schema_is_sent_as_given() -> None:
    recorder = Recorder(json_response(200, {"id": 456}))
    schema = {"style": {"medium": "flat illustration"}}
    await make_api(recorder).update_dataset("456", visual_schema=schema, caption_prefix="A ")
    assert body_of(recorder.last) == {"caption_prefix": "A ", "visual_schema": schema}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (ImageSource.from_bytes(b"\x89PNG"), {"file": "iVBORw==", "image_name": "a.png"}),
        (ImageSource.from_base64("QUJD"), {"file": "QUJD", "image_name": "a.png"}),
        (
            ImageSource.from_url("https://x/a.png"),
            {"image_url": "https://x/a.png", "image_name": "a.png"},
        ),
    ],
    ids=["bytes", "base64", "url"],
)
async def test_upload_image_sends_a_json_body_per_source(
    source: ImageSource, expected: dict[str, str]
) -> None:
    recorder = Recorder(json_response(201, {"id": 789, "dataset_id": 456}))
    image = await make_api(recorder).upload_image("456", source, image_name="a.png")
    assert recorder.last.url.path == "/v1/tailored-gen/datasets/456/images"
    assert body_of(recorder.last) == expected
    assert (image.id, image.dataset_id) == ("789", "456")


async def test_bulk_upload_sends_the_zip_as_multipart() -> None:
    recorder = Recorder(json_response(201, {"dataset_id": 456, "uploaded": 3}))
    result = await make_api(recorder).upload_images_zip("456", b"PK\x03\x04zip")
    assert recorder.last.url.path == "/v1/tailored-gen/datasets/456/images/bulk"
    assert recorder.last.headers["content-type"].startswith("multipart/form-data")
    assert b'name="file"; filename="images.zip"' in recorder.last.content
    assert result.uploaded == 3


async def test_caption_updates_are_mutually_exclusive_bodies() -> None:
    recorder = Recorder(json_response(200, {"id": 789, "caption_source": "manual"}))
    api = make_api(recorder)
    await api.set_image_caption("456", "789", "a cat")
    assert body_of(recorder.last) == {"caption": "a cat"}
    await api.regenerate_image_caption("456", "789")
    assert body_of(recorder.last) == {"regenerate_caption": True}
    assert recorder.last.url.path == "/v1/tailored-gen/datasets/456/images/789"


async def test_regenerate_all_captions_reads_the_in_progress_dataset() -> None:
    answer = {
        "id": 456,
        "captions_update_status": "in_progress",
        "updated_at": "2024-05-26T15:45:00Z",
    }
    recorder = Recorder(json_response(200, answer))
    status = await make_api(recorder).regenerate_all_captions("456")
    assert (recorder.last.method, recorder.last.url.path) == (
        "PUT",
        "/v1/tailored-gen/datasets/456/images",
    )
    assert status.kind is OperationKind.CAPTION_UPDATE
    assert status.state is OperationState.IN_PROGRESS
    assert status.updated_at is not None


async def test_create_model_sends_the_mode_as_the_vendors_notebook_does() -> None:
    recorder = Recorder(json_response(201, {"id": 789, "status": "created"}))
    model = await make_api(recorder).create_model(
        dataset_id="456", name="m", training_version="max", training_mode="fully_automated"
    )
    assert body_of(recorder.last) == {
        "name": "m",
        "dataset_id": 456,
        "training_version": "max",
        "training_method": "automatic_training",
    }
    assert model.status is ModelStatus.CREATED


async def test_create_model_sends_no_mode_when_none_is_asked_for() -> None:
    recorder = Recorder(json_response(201, {"id": 789, "status": "created"}))
    await make_api(recorder).create_model(dataset_id="456", name="m", training_version="fibo")
    assert body_of(recorder.last) == {"name": "m", "dataset_id": 456, "training_version": "fibo"}


async def test_start_training_reads_the_short_answer_as_a_model() -> None:
    recorder = Recorder(json_response(200, {"id": 789, "status": "InProgress"}))
    model = await make_api(recorder).start_training("789")
    assert recorder.last.url.path == "/v1/tailored-gen/models/789/start_training"
    assert (model.id, model.status) == ("789", ModelStatus.IN_PROGRESS)


async def test_training_status_is_the_model_status_with_its_timestamp() -> None:
    answer = {"id": 789, "status": "Failed", "updated_at": "2024-05-26T14:30:00Z"}
    status = await make_api(Recorder(json_response(200, answer))).get_training_status("789")
    assert (status.kind, status.id, status.state) == (
        OperationKind.TRAINING,
        "789",
        OperationState.FAILED,
    )
    assert status.raw_status == "Failed"
    assert status.error is not None
    assert status.error.code == "training_failed"
    assert status.is_terminal


async def test_text_to_image_flattens_guidance_and_passes_extra_fields() -> None:
    answer = {
        "result": [{"urls": ["https://r/1.png"], "seed": 11}],
        "warning": "This prompt may contain intellectual property (IP)-protected content.",
    }
    recorder = Recorder(json_response(200, answer))
    request = TailoredImageRequest.model_validate(
        {
            "prompt": "a fox",
            "num_results": 1,
            "guidance_methods": [
                {"method": "controlnet_canny", "scale": 0.8, "image": {"base64": "QUJD"}},
                {"method": "controlnet_depth", "scale": 0.5, "image": {"url": "https://g/2"}},
            ],
            "image_prompt": ImagePrompt(mode="style_only", scale=0.7, image_urls=["https://p/1"]),
            "content_moderation": True,
            "future_param": 3,
        }
    )
    result = await make_api(recorder).text_to_image("789", request)
    assert recorder.last.url.path == "/v1/text-to-image/tailored/789"
    assert body_of(recorder.last) == {
        "prompt": "a fox",
        "num_results": 1,
        "sync": True,
        "content_moderation": True,
        "future_param": 3,
        "guidance_method_1": "controlnet_canny",
        "guidance_method_1_scale": 0.8,
        "guidance_method_1_image_file": "QUJD",
        "guidance_method_2": "controlnet_depth",
        "guidance_method_2_scale": 0.5,
        "guidance_method_2_image_url": "https://g/2",
        "image_prompt_mode": "style_only",
        "image_prompt_scale": 0.7,
        "image_prompt_urls": ["https://p/1"],
    }
    assert isinstance(result, GenerationResult)
    assert [(a.url, a.seed) for a in result.assets] == [("https://r/1.png", 11)]
    assert result.ip_warning is not None
    assert "intellectual property" in result.ip_warning


def test_more_than_two_guidance_methods_are_refused() -> None:
    method = GuidanceMethod(method="controlnet_canny", image=ImageSource.from_url("https://g"))
    with pytest.raises(ValueError, match="at most 2"):
        TailoredImageRequest(prompt="x", guidance_methods=[method, method, method])


async def test_text_to_vector_and_reimagine_use_their_routes() -> None:
    recorder = Recorder(json_response(200, {"result": [{"urls": ["https://r/1.svg"]}]}))
    api = make_api(recorder)
    await api.text_to_vector("789", TailoredImageRequest(prompt="a fox"))
    assert recorder.last.url.path == "/v1/text-to-vector/tailored/789"
    request = ReimagineRequest(
        prompt="a fox",
        structure_image=ImageSource.from_url("https://s/1"),
        structure_ref_influence=0.6,
    )
    await api.reimagine("789", request)
    assert recorder.last.url.path == "/v1/reimagine/tailored/789"
    assert body_of(recorder.last) == {
        "prompt": "a fox",
        "structure_ref_influence": 0.6,
        "sync": True,
        "structure_image_url": "https://s/1",
    }


async def test_restyle_portrait_sends_the_model_id_in_the_body() -> None:
    recorder = Recorder(json_response(200, {"image_res": "https://r/p.png"}))
    request = RestylePortraitRequest(
        tailored_model_id="789", id_image=ImageSource.from_base64("QUJD"), id_strength=0.7
    )
    await make_api(recorder).restyle_portrait(request)
    assert recorder.last.url.path == "/v1/tailored-gen/restyle_portrait"
    assert body_of(recorder.last) == {
        "tailored_model_id": 789,
        "id_strength": 0.7,
        "id_image_file": "QUJD",
    }


async def test_v2_sync_answer_is_a_result_with_the_structured_prompt() -> None:
    answer = {"image_url": "https://r/f.png", "structured_prompt": '{"a":1}', "seed": 5}
    recorder = Recorder(json_response(200, answer))
    request = V2ImageRequest(tailored_model_id="model_fibo_123", prompt="a fox", sync=True)
    result = await make_api(recorder).generate_image_v2(request)
    assert recorder.last.url.path == "/v2/image/generate/tailored"
    assert body_of(recorder.last) == {
        "tailored_model_id": "model_fibo_123",
        "prompt": "a fox",
        "sync": True,
    }
    assert isinstance(result, GenerationResult)
    assert result.assets[0].url == "https://r/f.png"
    assert result.structured_prompt == '{"a":1}'


async def test_v2_async_answer_is_a_job_to_watch() -> None:
    answer = {"request_id": "req-1", "status_url": "https://bria.test/v2/status/req-1"}
    recorder = Recorder(json_response(202, answer))
    request = V2StructuredPromptRequest(
        tailored_model_id="m", prompt="refine", structured_prompt={"a": 1}
    )
    job = await make_api(recorder).generate_structured_prompt_v2(request)
    assert recorder.last.url.path == "/v2/structured_prompt/generate/tailored"
    assert body_of(recorder.last)["structured_prompt"] == '{"a":1}'
    assert job == AsyncJob(request_id="req-1", status_url="https://bria.test/v2/status/req-1")


def test_v2_input_combinations_are_checked() -> None:
    with pytest.raises(ValueError, match="prompt"):
        V2ImageRequest(tailored_model_id="m")
    with pytest.raises(ValueError, match="seed"):
        V2ImageRequest(tailored_model_id="m", structured_prompt="{}")
    assert V2ImageRequest(tailored_model_id="m", structured_prompt="{}", seed=1).seed == 1


@pytest.mark.parametrize(
    ("answer", "state"),
    [
        ({"status": "IN_PROGRESS", "request_id": "r"}, OperationState.IN_PROGRESS),
        (
            {
                "status": "COMPLETED",
                "request_id": "r",
                "result": {"image_url": "https://x", "seed": 3},
            },
            OperationState.COMPLETED,
        ),
        (
            {"status": "ERROR", "request_id": "r", "error": {"code": 500, "message": "failed"}},
            OperationState.FAILED,
        ),
        ({"status": "UNKNOWN", "request_id": "r"}, OperationState.UNKNOWN),
        # No status at all: read as the vendor's SDK reads it, from what the body carries.
        (
            {"request_id": "r", "error": {"code": 500, "message": "failed", "details": "x"}},
            OperationState.FAILED,
        ),
        (
            {"request_id": "r", "result": {"image_url": "https://x", "seed": 3}},
            OperationState.COMPLETED,
        ),
        (
            {"request_id": "r", "status_url": "https://engine/v2/status/r"},
            OperationState.IN_PROGRESS,
        ),
        ({"request_id": "r"}, OperationState.UNKNOWN),
    ],
)
async def test_async_status_is_read_into_a_normalised_state(
    answer: dict[str, Any], state: OperationState
) -> None:
    recorder = Recorder(json_response(200, answer))
    status = await make_api(recorder).get_async_result("r")
    assert recorder.last.url.path == "/v2/status/r"
    assert (status.kind, status.state) == (OperationKind.GENERATION, state)
    if state is OperationState.COMPLETED:
        assert status.result is not None
        assert [(a.url, a.seed) for a in status.result.assets] == [("https://x", 3)]
    if state is OperationState.FAILED:
        assert status.error is not None
        assert (status.error.code, status.error.message) == ("500", "failed")


async def test_standalone_captioning_is_unsupported_on_the_engine() -> None:
    recorder = Recorder(json_response(200, {}))
    with pytest.raises(UnsupportedOperation) as caught:
        await make_api(recorder).caption_image(ImageCaptionRequest(image_url="https://x"))
    assert caught.value.code == "unsupported_operation"
    assert caught.value.retriable is False
    assert "engine backend" in str(caught.value)
    assert recorder.requests == []
