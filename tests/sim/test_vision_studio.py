"""Vision Studio routes over the same state as the engine, in Vision Studio's shapes."""

import httpx

from bria_fleet.sim import SimServer
from tests.sim.helpers import V1, VS, engine, studio, wait_for


def test_engine_objects_are_visible_in_the_envelope(sim: SimServer) -> None:
    with studio(sim) as client:
        projects = client.get(f"{VS}/projects").json()
        model = client.get(f"{VS}/models/300").json()
    assert projects["status"] == "success"
    assert [p["id"] for p in projects["result"]] == [100]
    assert (model["result"]["id"], model["result"]["status"]) == (300, "Completed")


def test_objects_created_in_studio_are_visible_to_the_engine(sim: SimServer) -> None:
    with studio(sim) as vs, engine(sim) as client:
        project = vs.post(
            f"{VS}/projects",
            json={"project_name": "VS", "ip_medium": "photography", "ip_type": "style"},
        ).json()["result"]
        dataset = vs.post(
            f"{VS}/datasets", json={"project_id": project["id"], "name": "vs data"}
        ).json()["result"]
        seen = client.get(f"{V1}/datasets/{dataset['id']}")
    assert seen.status_code == 200
    assert seen.json()["project_id"] == project["id"]


def test_studio_training_flow(sim: SimServer) -> None:
    with studio(sim) as vs:
        dataset_id = 201
        upload = vs.post(
            f"{VS}/datasets/{dataset_id}/images",
            json={"dataset_id": dataset_id, "image_url": "https://example.com/a.png"},
        )
        completed = vs.put(
            f"{VS}/datasets/{dataset_id}", json={"dataset_id": dataset_id, "status": "COMPLETED"}
        )
        model = vs.post(
            f"{VS}/models",
            json={"name": "vs model", "dataset_id": dataset_id, "training_version": "light"},
        ).json()["result"]
        started = vs.post(f"{VS}/models/{model['id']}/training/start")
        twice = vs.post(f"{VS}/models/{model['id']}/training/start")
        final = wait_for(
            lambda: vs.get(f"{VS}/models/{model['id']}").json()["result"],
            lambda m: m["status"] == "Completed",
        )
    assert upload.status_code == 200
    assert upload.json()["result"]["dataset_id"] == dataset_id
    assert completed.json()["result"]["status"] == "completed"
    assert started.json()["result"]["status"] == "InProgress"
    assert (twice.status_code, twice.json()) == (409, {"detail": twice.json()["detail"]})
    assert final["dataset_id"] == dataset_id


def test_schema_violations_are_fastapi_422(sim: SimServer) -> None:
    with studio(sim) as vs:
        bad_type = vs.post(
            f"{VS}/projects",
            json={"project_name": "x", "ip_medium": "illustration", "ip_type": "icons"},
        )
        mismatch = vs.put(f"{VS}/datasets/201", json={"dataset_id": 200, "name": "x"})
        no_tags = vs.post("/api/v1/caption/image", json={"image_url": "https://e.com/a.png"})
    for response in (bad_type, mismatch, no_tags):
        assert response.status_code == 422
        assert isinstance(response.json()["detail"], list)
        assert {"loc", "msg", "type"} <= set(response.json()["detail"][0])


def test_unknown_ids_and_conflicts_use_detail(sim: SimServer) -> None:
    with studio(sim) as vs:
        missing = vs.get(f"{VS}/datasets/999")
        frozen = vs.post(
            f"{VS}/datasets/200/images",
            json={"dataset_id": 200, "image_url": "https://example.com/a.png"},
        )
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Dataset not found"}
    assert frozen.status_code == 409


def test_captions_routes(sim: SimServer) -> None:
    with studio(sim) as vs:
        one = vs.put(
            f"{VS}/datasets/201/images/2011/caption",
            json={"dataset_id": 201, "image_id": 2011, "caption": "hand written"},
        )
        everything = vs.put(f"{VS}/datasets/201/images/captions")
    assert one.json()["result"]["caption_source"] == "manual"
    assert everything.json()["result"]["captions_update_status"] == "in_progress"


def test_project_datasets_can_include_models(sim: SimServer) -> None:
    with studio(sim) as vs:
        response = vs.get(
            f"{VS}/projects/100/datasets", params={"include_models_ids": True}
        ).json()["result"]
    by_id = {d["id"]: d for d in response}
    assert by_id[200]["models_ids"] == [300, 301, 302]
    assert by_id[201]["models_ids"] == []


def test_lora_generation_sync_and_async(sim: SimServer) -> None:
    with studio(sim) as vs:
        sync = vs.post(
            f"{VS}/image/generation/generate-image", json={"model_id": "300", "prompt": "a cat"}
        ).json()["result"]
        submitted = vs.post(
            f"{VS}/image/generation/generate-vector",
            json={"model_id": "300", "prompt": "a fox", "sync": False},
        ).json()["result"]
        first = vs.get(f"/api/v1/bria/status/{submitted['request_id']}").json()
        final = wait_for(
            lambda: vs.get(f"/api/v1/bria/status/{submitted['request_id']}").json(),
            lambda s: s["status"] != "IN_PROGRESS",
        )
        unknown = vs.get("/api/v1/bria/status/unknown")
    assert httpx.get(sync["image_url"]).status_code == 200
    assert submitted["status_url"].endswith(f"/api/v1/bria/status/{submitted['request_id']}")
    assert first["status"] == "IN_PROGRESS"
    assert final["status"] == "COMPLETED"
    assert final["result"]["image_url"].endswith(".svg")
    assert unknown.status_code == 404


def test_lora_generation_rules(sim: SimServer) -> None:
    with studio(sim) as vs:
        short = vs.post(
            f"{VS}/image/generation/generate-image", json={"model_id": "300", "prompt": "cat"}
        )
        fast_max = vs.post(
            f"{VS}/image/generation/generate-image",
            json={"model_id": "301", "prompt": "a cat", "fast": True},
        )
    assert short.status_code == 422
    assert fast_max.status_code == 400


def test_media_captioning(sim: SimServer) -> None:
    with studio(sim) as vs:
        image = vs.post(
            "/api/v1/caption/image",
            json={
                "image_url": "https://example.com/beach.jpg",
                "mode": "image_tagging",
                "nbr_tags": 2,
                "possible_tags": ["sea", "sand", "sun"],
            },
        ).json()["result"]
        video = vs.post(
            "/api/v1/caption/video",
            json={"video_url": "https://example.com/clip.mp4", "mode": "segment_timestamps"},
        ).json()["result"]
    assert len(image["tags"]) == 2
    assert set(image["tags"]) <= {"sea", "sand", "sun"}
    assert image["caption"]
    assert len(video["segments"]) == 3


def test_variation_with_a_tailored_model(sim: SimServer) -> None:
    path = "/api/v1/bria/image/generation/generate-variation"
    body = {"prompt": "sunset colours", "image_url": "https://example.com/a.png"}
    with studio(sim) as vs:
        light = vs.post(path, json=body | {"tailored_model_id": "300"})
        max_model = vs.post(path, json=body | {"tailored_model_id": "301"})
        slow_many = vs.post(path, json=body | {"fast": False, "num_results": 2})
        no_reference = vs.post(path, json={"prompt": "sunset colours"})
    assert light.status_code == 200
    assert httpx.get(light.json()["result"]["image_url"]).status_code == 200
    assert light.json()["result"]["prompt"].endswith("sunset colours")
    assert (max_model.status_code, slow_many.status_code) == (400, 400)
    assert no_reference.status_code == 422
