"""Requests parse when valid and are rejected with a readable reason when not."""

import json
from typing import Any

import pytest

from bria_fleet_contracts import (
    InvalidRequest,
    TextToImageRequest,
    UpdateCaptionRequest,
    parse_request,
)
from bria_fleet_contracts.topics import Domain

T2I: dict[str, Any] = {
    "job_id": "job-7",
    "op": "text_to_image",
    "model_id": "300",
    "prompt": "a cat",
}


def reject(domain: Domain, raw: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        parse_request(domain, raw)
    return caught.value


def test_a_valid_request_parses_into_its_op_model() -> None:
    request = parse_request("generation", json.dumps(T2I).encode())
    assert isinstance(request, TextToImageRequest)
    assert request.model_id == "300"


def test_job_ids_may_contain_slashes_of_derived_pipeline_ids() -> None:
    request = parse_request("generation", {**T2I, "job_id": "job-7/train/generate"})
    assert request.job_id == "job-7/train/generate"


@pytest.mark.parametrize("count", [0, 5])
def test_num_results_outside_1_to_4_is_rejected(count: int) -> None:
    error = reject("generation", {**T2I, "num_results": count})
    bound = "greater than or equal to 1" if count == 0 else "less than or equal to 4"
    assert (
        error.reason
        == f"generation request 'job-7' is invalid: num_results: Input should be {bound}"
    )
    assert error.job_id == "job-7"


@pytest.mark.parametrize("count", [1, 4])
def test_num_results_at_the_bounds_is_accepted(count: int) -> None:
    request = parse_request("generation", {**T2I, "num_results": count})
    assert isinstance(request, TextToImageRequest)
    assert request.num_results == count


def test_unknown_op_is_named_with_the_valid_ones() -> None:
    error = reject("generation", {**T2I, "op": "text2img"})
    assert "unknown op 'text2img'" in error.reason
    assert "text_to_image, text_to_vector, reimagine" in error.reason
    assert error.job_id == "job-7"


def test_an_op_of_another_domain_says_where_it_belongs() -> None:
    error = reject("generation", {"job_id": "j", "op": "train_model", "dataset_id": "200"})
    assert "it is a training op: send it to bria.training.requests" in error.reason


def test_missing_op_lists_the_valid_ones() -> None:
    error = reject("training", {"job_id": "j", "dataset_id": "200"})
    assert error.reason == (
        "training request 'j' is invalid: op is missing; valid ops: train_model, stop_training"
    )


def test_missing_job_id_is_reported_without_a_job_id() -> None:
    error = reject("training", {"op": "stop_training", "model_id": "300"})
    assert error.reason == "training request is invalid: job_id: Field required"
    assert error.job_id is None


def test_wrong_types_are_reported_by_field() -> None:
    error = reject("generation", {**T2I, "num_results": "many", "sync": "maybe"})
    assert "num_results: Input should be a valid integer" in error.reason
    assert "sync: Input should be a valid boolean" in error.reason


def test_unknown_fields_are_rejected() -> None:
    assert (
        "negative_promt: Extra inputs are not permitted"
        in reject("generation", {**T2I, "negative_promt": "text"}).reason
    )


def test_job_id_is_extracted_even_when_the_rest_is_invalid() -> None:
    assert reject("ingest", {"job_id": "up-1", "op": "nope"}).job_id == "up-1"


def test_malformed_json_is_reported_as_such() -> None:
    error = reject("caption", b'{"job_id": "x",')
    assert error.reason.startswith("caption request is not valid JSON: ")
    assert error.job_id is None


def test_a_json_value_that_is_not_an_object_is_rejected() -> None:
    assert reject("caption", "[1, 2]").reason == "caption request is not a JSON object (got list)"


def test_invalid_utf8_is_rejected() -> None:
    assert "not valid UTF-8" in reject("caption", b"\xff\xfe").reason


def test_an_unknown_domain_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown domain 'video'"):
        parse_request("video", {})  # type: ignore[call-overload]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {
                "guidance_method_2": "controlnet_depth",
                "guidance_method_2_image_url": "https://a.b/c",
            },
            "guidance_method_2 needs guidance_method_1",
        ),
        (
            {"guidance_method_1": "controlnet_canny"},
            "give exactly one of guidance_method_1_image_url or guidance_method_1_image_file "
            "(got neither)",
        ),
        (
            {
                "guidance_method_1": "controlnet_canny",
                "guidance_method_1_image_url": "https://a.b/c.png",
                "guidance_method_1_image_file": "aGVsbG8=",
            },
            "(got guidance_method_1_image_url and guidance_method_1_image_file)",
        ),
        (
            {"guidance_method_1_scale": 0.5},
            "guidance_method_1_scale given without guidance_method_1",
        ),
        ({"guidance_method_1": "controlnet_sketch"}, "guidance_method_1: Input should be"),
        ({"image_prompt_scale": 0.5}, "image_prompt_scale given without image_prompt_mode"),
        (
            {"image_prompt_mode": "regular"},
            "give exactly one of image_prompt_file or image_prompt_urls",
        ),
        ({"guidance_method_1_scale": 1.5}, "Input should be less than or equal to 1"),
        ({"fast": False, "steps_num": 8}, "steps_num must be 20-50 when fast is false"),
    ],
)
def test_guidance_rules_are_enforced(fields: dict[str, Any], message: str) -> None:
    assert message in reject("generation", {**T2I, **fields}).reason


def test_two_controlnets_and_an_image_prompt_are_accepted() -> None:
    request = parse_request(
        "generation",
        {
            **T2I,
            "num_results": 1,
            "guidance_method_1": "controlnet_canny",
            "guidance_method_1_scale": 1.0,
            "guidance_method_1_image_file": "aGVsbG8=",
            "guidance_method_2": "controlnet_color_grid",
            "guidance_method_2_image_url": "https://assets.example.com/grid.png",
            "image_prompt_mode": "style_only",
            "image_prompt_urls": ["https://assets.example.com/style.png"],
            "image_prompt_scale": 0.85,
        },
    )
    assert isinstance(request, TextToImageRequest)
    assert request.guidance_method_2 == "controlnet_color_grid"


UPDATE = {"job_id": "c-1", "op": "update_caption", "dataset_id": "201", "image_id": "2011"}


def test_caption_and_regenerate_together_are_rejected() -> None:
    error = reject("caption", {**UPDATE, "caption": "a cat", "regenerate": True})
    assert error.reason == (
        "caption request 'c-1' is invalid: give exactly one of caption or regenerate: true"
    )


def test_neither_caption_nor_regenerate_is_rejected() -> None:
    assert "exactly one of caption or regenerate" in reject("caption", UPDATE).reason


def test_regenerate_alone_is_accepted() -> None:
    request = parse_request("caption", {**UPDATE, "regenerate": True})
    assert isinstance(request, UpdateCaptionRequest)
    assert request.regenerate is True


INGEST: dict[str, Any] = {
    "job_id": "i-1",
    "op": "ingest_images",
    "project_id": "100",
    "dataset": {"name": "d"},
    "images": [{"image_name": "a.png", "url": "https://assets.example.com/a.png"}],
}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"dataset_id": "200"},
            "give exactly one of dataset_id or dataset (got dataset_id and dataset)",
        ),
        ({"dataset": None}, "give exactly one of dataset_id or dataset (got neither)"),
        ({"project_id": None}, "give exactly one of project_id or project (got neither)"),
        (
            {"images": [{"image_name": "a.png", "url": "https://x.io/a", "base64": "aGk="}]},
            "images[0]: give exactly one of url or base64",
        ),
        (
            {"images": [{"image_name": "a.png", "url": "https://x.io/a"}] * 2},
            "images: image_name must be unique within the job: a.png",
        ),
        ({"images": [{"image_name": "a.png", "url": "ftp://x.io/a"}]}, "images[0].url: String"),
        ({"bulk_zip_url": "https://x.io/a.zip"}, "give images or bulk_zip_url, not both"),
        ({"progress_every": 0}, "progress_every: Input should be greater than or equal to 1"),
        (
            {
                "project_id": None,
                "project": {
                    "name": "p",
                    "ip_type": "defined_character",
                    "ip_medium": "illustration",
                },
            },
            "ip_name is required when ip_type is defined_character",
        ),
        (
            {"dataset": {"name": "d", "visual_schema": "not json"}},
            "dataset.visual_schema: must be a JSON object encoded as a string",
        ),
    ],
)
def test_ingest_rules_are_enforced(fields: dict[str, Any], message: str) -> None:
    assert message in reject("ingest", {**INGEST, **fields}).reason


def test_many_errors_are_capped_and_counted() -> None:
    images = [{"image_name": f"{i}.png"} for i in range(8)]
    reason = reject("ingest", {**INGEST, "images": images}).reason
    assert reason.endswith("... and 3 more")


@pytest.mark.parametrize(
    ("domain", "body", "message"),
    [
        (
            "caption",
            {"op": "generate_prefix", "images": [{"url": "https://x.io/a"}, {"base64": "aGk="}]},
            "images must be all URLs or all base64, not a mix",
        ),
        ("caption", {"op": "generate_prefix", "images": []}, "images: List should have at least 1"),
        (
            "caption",
            {"op": "generate_visual_schema", "images": [{"url": "https://x.io/a"}] * 4},
            "images: List should have at least 5 items",
        ),
        (
            "caption",
            {
                "op": "refine_structured_prompt",
                "dataset_id": "201",
                "structured_prompt": "{}",
                "instruction": "x",
                "apply_to": "image_caption",
            },
            "apply_to image_caption needs image_id",
        ),
        (
            "caption",
            {
                "op": "caption_media",
                "media_url": "https://x.io/a.mp4",
                "kind": "video",
                "mode": "image_tagging",
            },
            "mode image_tagging is for images",
        ),
        (
            "caption",
            {
                "op": "caption_media",
                "media_url": "https://x.io/a.png",
                "kind": "image",
                "mode": "segment_timestamps",
            },
            "mode segment_timestamps is for videos",
        ),
        (
            "training",
            {"op": "train_model", "dataset_id": "200"},
            "give exactly one of model_id or model (got neither)",
        ),
        (
            "training",
            {
                "op": "train_model",
                "dataset_id": "200",
                "model": {"name": "m", "training_version": "huge"},
            },
            "model.training_version: Input should be 'light', 'max', 'fibo'",
        ),
        (
            "generation",
            {"op": "fibo_generate_image", "model_id": "302"},
            "give prompt, structured_prompt, or both",
        ),
        (
            "generation",
            {"op": "fibo_generate_image", "model_id": "302", "structured_prompt": "{}"},
            "structured_prompt without prompt recreates an image: it needs seed",
        ),
        (
            "generation",
            {"op": "fibo_generate_image", "model_id": "302", "prompt": "x", "model_influence": 1.6},
            "model_influence: Input should be less than or equal to 1.5",
        ),
        (
            "generation",
            {"op": "reimagine", "model_id": "300", "prompt": "x"},
            "give exactly one of structure_image_url or structure_image_file",
        ),
        (
            "generation",
            {"op": "text_to_vector", "model_id": "300", "prompt": "x", "steps_num": 10},
            "steps_num: Input should be greater than or equal to 20",
        ),
    ],
)
def test_op_rules_are_enforced(domain: Domain, body: dict[str, Any], message: str) -> None:
    assert message in reject(domain, {"job_id": "r-1", **body}).reason
