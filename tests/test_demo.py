"""The demo's logic: which images, which request, which events end which step."""

from typing import Any

import pytest

from bria_fleet.demo_pipeline import PipelineRun, pipeline_request, sample_images
from bria_fleet.errors import BriaFleetError
from bria_fleet.sim.images import inspect_image
from bria_fleet_contracts import parse_request


def event(type_: str, job_id: str, **data: Any) -> dict[str, Any]:
    return {"type": type_, "job_id": job_id, "data": data}


def test_sample_images_are_real_pngs_big_enough_to_upload() -> None:
    images = sample_images()

    assert len({name for name, _ in images}) == len(images)
    for _, data in images:
        info = inspect_image(data)
        assert min(info.width, info.height) >= 256


def test_the_demo_request_is_a_valid_pipeline_with_the_images_inline() -> None:
    request = pipeline_request(sample_images(3))

    parsed = parse_request("ingest", request)
    assert [image.image_name for image in parsed.images] == [
        "sample-01.png",
        "sample-02.png",
        "sample-03.png",
    ]
    assert parsed.then[0].domain == "caption"


def test_images_too_large_for_one_message_are_refused_with_the_fix() -> None:
    with pytest.raises(BriaFleetError, match="URLs"):
        pipeline_request([("huge.png", b"x" * 1_000_000)])


def test_a_run_follows_each_step_and_ends_with_the_assets() -> None:
    run = PipelineRun("job", images=4)
    run.apply(event("ingest.progress", "job", processed=2))
    assert run.steps["ingest"].done == 2
    run.apply(event("ingest.completed", "job"))
    run.apply(event("caption.completed", "job/caption"))
    run.apply(event("training.status_changed", "job/caption/train", status="in_progress"))
    assert run.steps["training"].status == "in_progress"
    assert not run.finished

    run.apply(event("training.completed", "job/caption/train"))
    run.apply(event("generation.completed", "job/caption/train/generate", assets=[{"url": "u1"}]))

    assert run.finished
    assert run.assets == ["u1"]
    assert run.steps["ingest"].done == 4


def test_a_failed_step_ends_the_run_without_assets() -> None:
    run = PipelineRun("job", images=1)
    run.apply(event("ingest.completed", "job"))
    run.apply(event("caption.failed", "job/caption"))

    assert run.finished
    assert run.assets == []


def test_events_of_other_jobs_are_ignored() -> None:
    run = PipelineRun("job", images=1)
    run.apply(event("generation.completed", "other/caption/train/generate", assets=[]))

    assert not run.finished
