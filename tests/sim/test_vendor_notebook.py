"""The vendor's own material, replayed against the simulator over plain HTTP (not our client).

Bodies and assertions follow Bria's public fine-tuning notebook (the GTC 2025 demo) and what
the official SDK (``bria-client``) reads: model creation with ``training_method``, the
completed dataset's images in the PUT answer, and a failed v2 job's ``error`` with
``code``, ``message`` and ``details``.
"""

from typing import Any

import httpx

from bria_fleet.sim import SimServer
from tests.sim.helpers import V1, admin, engine, png_b64, trained_fibo_model_id, wait_for


def _dataset_with_images(client: httpx.Client, count: int) -> int:
    project = client.post(
        f"{V1}/projects",
        json={
            "project_name": "GTC demo",
            "ip_name": "Mascot",
            "ip_description": "A friendly robot",
            "ip_medium": "illustration",
            "ip_type": "defined_character",
        },
    )
    assert project.status_code == 201
    dataset = client.post(f"{V1}/datasets", json={"project_id": project.json()["id"], "name": "d"})
    assert dataset.status_code == 201
    dataset_id: int = dataset.json()["id"]
    for index in range(count):
        upload = client.post(
            f"{V1}/datasets/{dataset_id}/images",
            json={"file": png_b64(seed=index + 1), "image_name": f"robot_{index}.png"},
        )
        assert upload.status_code == 201
    return dataset_id


def test_the_notebooks_sequence_completes_a_dataset_and_creates_a_model(sim: SimServer) -> None:
    with engine(sim) as client:
        dataset_id = _dataset_with_images(client, 3)

        completed = client.put(f"{V1}/datasets/{dataset_id}", json={"status": "Completed"})
        assert completed.status_code == 200
        images: list[dict[str, Any]] = completed.json()["images"]
        assert sorted(image["image_name"] for image in images) == [
            "robot_0.png",
            "robot_1.png",
            "robot_2.png",
        ]
        assert all(isinstance(image["caption"], str) and image["caption"] for image in images)

        model = client.post(
            f"{V1}/models",
            json={
                "dataset_id": dataset_id,
                "name": "gtc-model",
                "description": "fine-tuned in the demo",
                "training_version": "max",
                "training_method": "automatic_training",
            },
        )
        assert model.status_code == 201
        assert model.json()["training_mode"] == "fully_automated"

        started = client.post(f"{V1}/models/{model.json()['id']}/start_training")
        assert started.status_code == 200


def test_model_creation_still_accepts_the_documents_training_mode(sim: SimServer) -> None:
    with engine(sim) as client:
        dataset_id = _dataset_with_images(client, 1)
        for mode, expected in (("fully_automated", "fully_automated"), ("expert", "expert")):
            model = client.post(
                f"{V1}/models",
                json={
                    "dataset_id": dataset_id,
                    "name": f"m-{mode}",
                    "training_version": "light",
                    "training_mode": mode,
                },
            )
            assert model.status_code == 201
            assert model.json()["training_mode"] == expected
        refused = client.post(
            f"{V1}/models",
            json={
                "dataset_id": dataset_id,
                "name": "m-bad",
                "training_version": "light",
                "training_method": "by_hand",
            },
        )
        assert refused.status_code == 400
        assert "automatic_training" in refused.text


def test_a_failed_v2_job_carries_code_message_and_details(sim: SimServer) -> None:
    with admin(sim) as control, engine(sim) as client:
        control.put("/faults", json={"generation_failure_rate": 1.0})
        accepted = client.post(
            "/v2/image/generate/tailored",
            json={"tailored_model_id": trained_fibo_model_id(client), "prompt": "a fox"},
        )
        assert accepted.status_code == 202
        request_id = accepted.json()["request_id"]
        final = wait_for(
            lambda: client.get(f"/v2/status/{request_id}").json(),
            lambda body: body["status"] != "IN_PROGRESS",
        )
    assert final["status"] == "ERROR"
    assert set(final["error"]) >= {"code", "message", "details"}
    assert all(final["error"][key] for key in ("code", "message", "details"))
