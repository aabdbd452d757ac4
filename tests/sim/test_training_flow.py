"""The whole documented training flow, from a new project to a trained model."""

from datetime import datetime

from bria_fleet.sim import SimServer
from tests.fixtures.sim import SIM_TIMING
from tests.sim.helpers import V1, engine, png, png_b64, wait_for


def _epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def test_documented_flow_trains_a_model(sim: SimServer) -> None:
    with engine(sim) as client:
        project = client.post(
            f"{V1}/projects",
            json={
                "project_name": "Branded Character",
                "ip_name": "Lora",
                "ip_description": "A female character with purple hair",
                "ip_medium": "illustration",
                "ip_type": "defined_character",
            },
        )
        assert project.status_code == 201
        dataset = client.post(
            f"{V1}/datasets", json={"project_id": project.json()["id"], "name": "dataset v1"}
        )
        assert dataset.status_code == 201
        assert dataset.json()["status"] == "draft"
        dataset_id = dataset.json()["id"]

        multipart = client.post(
            f"{V1}/datasets/{dataset_id}/images",
            files={"file": ("standing.png", png(seed=1), "image/png")},
        )
        base64_json = client.post(
            f"{V1}/datasets/{dataset_id}/images",
            json={"file": png_b64(seed=2), "image_name": "sitting.png"},
        )
        by_url = client.post(
            f"{V1}/datasets/{dataset_id}/images",
            json={"image_url": "https://example.com/images/running.png", "image_name": "run"},
        )
        assert [r.status_code for r in (multipart, base64_json, by_url)] == [201, 201, 201]
        assert [r.json()["image_name"] for r in (multipart, base64_json, by_url)] == [
            "standing.png",
            "sitting.png",
            "run",
        ]

        completed = client.put(f"{V1}/datasets/{dataset_id}", json={"status": "completed"})
        assert completed.status_code == 200
        assert completed.json()["status"] == "completed"

        model = client.post(
            f"{V1}/models",
            json={"name": "Lora", "dataset_id": dataset_id, "training_version": "max"},
        )
        assert model.status_code == 201
        assert model.json()["status"] == "Created"
        model_id = model.json()["id"]

        started = client.post(f"{V1}/models/{model_id}/start_training")
        assert started.status_code == 200
        assert started.json() == {"id": model_id, "status": "InProgress"}

        final = wait_for(
            lambda: client.get(f"{V1}/models/{model_id}").json(),
            lambda m: m["status"] == "Completed",
        )
        assert final["dataset_id"] == dataset_id
        assert final["project_id"] == project.json()["id"]
        created_at = _epoch(model.json()["created_at"])
        assert _epoch(final["updated_at"]) >= created_at + SIM_TIMING.training_seconds


def test_finished_training_reports_its_completion_time(sim: SimServer) -> None:
    with engine(sim) as client:
        model = client.post(f"{V1}/models", json={"name": "m", "dataset_id": 200}).json()
        client.post(f"{V1}/models/{model['id']}/start_training")
        before = client.get(f"{V1}/models/{model['id']}").json()["updated_at"]
        final = wait_for(
            lambda: client.get(f"{V1}/models/{model['id']}").json(),
            lambda m: m["status"] == "Completed",
        )
        first_seen = final["updated_at"]
        again = client.get(f"{V1}/models/{model['id']}").json()["updated_at"]
    elapsed = _epoch(first_seen) - _epoch(before)
    assert abs(elapsed - SIM_TIMING.training_seconds) < 0.01
    assert again == first_seen
