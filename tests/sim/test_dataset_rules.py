"""Dataset and image rules: completion, frozen completed datasets, limits, upload checks."""

import pytest

from bria_fleet.sim import SimServer
from bria_fleet.sim.captions import caption_for
from bria_fleet_contracts import seed
from tests.sim.helpers import V1, completed_dataset, engine, new_dataset, new_project, png_b64


def test_seeded_datasets(sim: SimServer) -> None:
    with engine(sim) as client:
        done = client.get(f"{V1}/datasets/200").json()
        draft = client.get(f"{V1}/datasets/201").json()
    assert (done["status"], draft["status"]) == ("completed", "draft")
    assert [i["id"] for i in done["images"]] == [2001, 2002, 2003]
    assert [i["id"] for i in draft["images"]] == [2011, 2012, 2013]


def test_new_ids_are_above_the_seeded_ones(sim: SimServer) -> None:
    with engine(sim) as client:
        project = new_project(client)
    assert project["id"] > 2013


@pytest.mark.parametrize("status", ["completed", "Completed", "COMPLETED"])
def test_status_is_accepted_in_any_case(sim: SimServer, status: str) -> None:
    with engine(sim) as client:
        response = client.put(f"{V1}/datasets/201", json={"status": status})
    assert response.status_code == 200
    assert response.json()["status"] == "completed"


def test_empty_dataset_cannot_be_completed(sim: SimServer) -> None:
    with engine(sim) as client:
        dataset = new_dataset(client, new_project(client)["id"])
        response = client.put(f"{V1}/datasets/{dataset['id']}", json={"status": "completed"})
    assert response.status_code == 409
    assert "at least 1 image" in response.json()["message"]


def test_a_dataset_holds_at_most_200_images(sim: SimServer) -> None:
    with engine(sim) as client:
        dataset = new_dataset(client, new_project(client)["id"])
        image = {"file": png_b64()}
        statuses = [
            client.post(f"{V1}/datasets/{dataset['id']}/images", json=image).status_code
            for _ in range(201)
        ]
    assert statuses[:200] == [201] * 200
    assert statuses[200] == 409


def test_completed_dataset_refuses_changes(sim: SimServer) -> None:
    with engine(sim) as client:
        upload = client.post(f"{V1}/datasets/200/images", json={"file": png_b64()})
        delete = client.delete(f"{V1}/datasets/200/images/2001")
        caption = client.put(f"{V1}/datasets/200/images/2001", json={"caption": "new"})
        regenerate = client.put(f"{V1}/datasets/200/images/2001", json={"regenerate_caption": True})
        prefix = client.put(f"{V1}/datasets/200", json={"caption_prefix": "Another prefix,"})
        regenerate_all = client.put(f"{V1}/datasets/200/images")
    for response in (upload, delete, caption, regenerate, prefix, regenerate_all):
        assert response.status_code == 409, response.text


def test_renaming_a_completed_dataset_is_allowed(sim: SimServer) -> None:
    with engine(sim) as client:
        response = client.put(f"{V1}/datasets/200", json={"name": "renamed"})
    assert response.status_code == 200
    assert response.json()["name"] == "renamed"


def test_dataset_with_a_trained_model_cannot_return_to_draft(sim: SimServer) -> None:
    with engine(sim) as client:
        response = client.put(f"{V1}/datasets/200", json={"status": "draft"})
    assert response.status_code == 409


def test_completed_dataset_without_models_can_return_to_draft(sim: SimServer) -> None:
    with engine(sim) as client:
        dataset = completed_dataset(client)
        response = client.put(f"{V1}/datasets/{dataset['id']}", json={"status": "DRAFT"})
    assert response.status_code == 200
    assert response.json()["status"] == "draft"


def test_clone_makes_a_draft_copy(sim: SimServer) -> None:
    with engine(sim) as client:
        response = client.post(f"{V1}/datasets/200/clone", json={})
    clone = response.json()
    assert response.status_code == 201
    assert clone["status"] == "draft"
    assert clone["id"] != 200
    assert [i["image_name"] for i in clone["images"]] == [
        "lora_standing.png",
        "lora_sitting.png",
        "lora_running.png",
    ]


def test_unknown_ids_are_404(sim: SimServer) -> None:
    with engine(sim) as client:
        paths = [
            f"{V1}/projects/999",
            f"{V1}/datasets/999",
            f"{V1}/datasets/200/images/999",
            f"{V1}/datasets/999/images",
            f"{V1}/models/999",
            f"{V1}/models/not-a-number",
            f"{V1}/projects/999/datasets",
            f"{V1}/projects/999/models",
        ]
        statuses = {path: client.get(path).status_code for path in paths}
    assert set(statuses.values()) == {404}


def test_creating_in_an_unknown_parent_is_404(sim: SimServer) -> None:
    with engine(sim) as client:
        dataset = client.post(f"{V1}/datasets", json={"project_id": 999, "name": "x"})
        model = client.post(f"{V1}/models", json={"name": "x", "dataset_id": 999})
    assert (dataset.status_code, model.status_code) == (404, 404)


def test_upload_needs_exactly_one_of_file_and_url(sim: SimServer) -> None:
    with engine(sim) as client:
        neither = client.post(f"{V1}/datasets/201/images", json={"image_name": "x.png"})
        both = client.post(
            f"{V1}/datasets/201/images",
            json={"file": png_b64(), "image_url": "https://example.com/a.png"},
        )
    assert (neither.status_code, both.status_code) == (400, 400)


def test_upload_of_another_file_type_is_415(sim: SimServer) -> None:
    with engine(sim) as client:
        gif = client.post(
            f"{V1}/datasets/201/images",
            files={"file": ("a.gif", b"GIF89a\x01\x00\x01\x00", "image/gif")},
        )
        text_body = client.post(
            f"{V1}/datasets/201/images", content=b"hello", headers={"content-type": "text/plain"}
        )
    assert (gif.status_code, text_body.status_code) == (415, 415)


def test_upload_smaller_than_256_pixels_is_412(sim: SimServer) -> None:
    with engine(sim) as client:
        response = client.post(f"{V1}/datasets/201/images", json={"file": png_b64(side=64)})
    assert response.status_code == 412


def test_upload_from_an_unusable_url_is_422(sim: SimServer) -> None:
    with engine(sim) as client:
        response = client.post(f"{V1}/datasets/201/images", json={"image_url": "ftp://x/a.png"})
    assert response.status_code == 422


def test_captions_continue_the_prefix_deterministically(sim: SimServer) -> None:
    with engine(sim) as client:
        dataset = client.get(f"{V1}/datasets/201").json()
        image = dataset["images"][0]
        edited = client.put(f"{V1}/datasets/201/images/{image['id']}", json={"caption": "mine"})
        regenerated = client.put(
            f"{V1}/datasets/201/images/{image['id']}", json={"regenerate_caption": True}
        )
    assert image["caption"] == caption_for(dataset["caption_prefix"], image["image_name"])
    assert (edited.json()["caption"], edited.json()["caption_source"]) == ("mine", "manual")
    assert regenerated.json()["caption"] == image["caption"]
    assert regenerated.json()["caption_source"] == "automatic"


def test_caption_and_regenerate_together_is_400(sim: SimServer) -> None:
    with engine(sim) as client:
        response = client.put(
            f"{V1}/datasets/201/images/2011", json={"caption": "x", "regenerate_caption": True}
        )
    assert response.status_code == 400


def test_deleting_a_draft_image(sim: SimServer) -> None:
    with engine(sim) as client:
        deleted = client.delete(f"{V1}/datasets/201/images/2011")
        after = client.get(f"{V1}/datasets/201/images/2011")
    assert (deleted.status_code, after.status_code) == (204, 404)


def test_seeded_state_matches_the_contracts_seed(sim: SimServer) -> None:
    with engine(sim) as client:
        for seeded in seed.DATASETS:
            dataset = client.get(f"{V1}/datasets/{seeded.id}").json()
            assert dataset["status"] == seeded.status
            assert dataset["project_id"] == int(seed.PROJECT_ID)
            assert [str(i["id"]) for i in dataset["images"]] == list(seeded.image_ids)
        for model in seed.MODELS:
            found = client.get(f"{V1}/models/{model.id}").json()
            assert (found["training_version"], found["status"]) == (
                model.training_version,
                model.status,
            )
            assert found["dataset_id"] == int(model.dataset_id)
