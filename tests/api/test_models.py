"""Response models: integer ids become strings, extras are kept, statuses become enums."""

from __future__ import annotations

from datetime import UTC, datetime

from bria_fleet.api import (
    CaptionsStatus,
    Dataset,
    DatasetImage,
    DatasetStatus,
    ModelStatus,
    Project,
    ProjectStatus,
    TailoredModel,
)


def test_engine_integer_ids_become_strings() -> None:
    model = TailoredModel.model_validate(
        {"id": 789, "project_id": 123, "dataset_id": 456, "status": "Completed"}
    )
    assert (model.id, model.project_id, model.dataset_id) == ("789", "123", "456")


def test_string_ids_are_kept_as_they_are() -> None:
    assert TailoredModel.model_validate({"id": "model_fibo_123"}).id == "model_fibo_123"


def test_project_reads_the_documented_sample_and_keeps_unknown_fields() -> None:
    project = Project.model_validate(
        {
            "id": 123,
            "project_name": "Branded Character",
            "project_description": "",
            "ip_name": "Lora",
            "ip_medium": "illustration",
            "ip_type": "defined_character",
            "status": "active",
            "created_at": "2024-05-26T12:00:00Z",
            "future_field": {"x": 1},
        }
    )
    assert project.name == "Branded Character"
    assert project.status is ProjectStatus.ACTIVE
    assert project.created_at == datetime(2024, 5, 26, 12, tzinfo=UTC)
    assert project.model_extra == {"future_field": {"x": 1}}


def test_dataset_normalises_both_statuses_and_keeps_the_raw_caption_status() -> None:
    dataset = Dataset.model_validate(
        {
            "id": 456,
            "project_id": 123,
            "name": "dataset v1",
            "status": "COMPLETED",
            "captions_update_status": "In_Progress",
            "images": [{"id": 789, "dataset_id": 456, "image_name": "a.png"}],
        }
    )
    assert dataset.status is DatasetStatus.COMPLETED
    assert dataset.captions_update_status is CaptionsStatus.IN_PROGRESS
    assert dataset.raw_captions_update_status == "In_Progress"
    assert dataset.images[0].id == "789"


def test_model_keeps_the_status_as_the_api_spelled_it() -> None:
    model = TailoredModel.model_validate({"id": 1, "status": "Training In Progress"})
    assert model.status is ModelStatus.IN_PROGRESS
    assert model.raw_status == "Training In Progress"


def test_model_reads_training_mode_from_either_documented_name() -> None:
    model = TailoredModel.model_validate(
        {"id": 1, "training_version": "Max", "training_method": "Expert"}
    )
    assert (model.training_version, model.training_mode) == ("max", "expert")


def test_legacy_upload_answer_file_name_is_the_image_name() -> None:
    image = DatasetImage.model_validate({"id": 1, "file_name": "x.png", "url": "https://i/x"})
    assert (image.image_name, image.image_url) == ("x.png", "https://i/x")
