"""Model and training rules: preconditions, conflicts, stop, failure, admin fast-forward."""

import httpx

from bria_fleet.sim import SimServer
from tests.sim.helpers import V1, admin, completed_dataset, engine, new_model, wait_for


def _status(client: httpx.Client, model_id: int) -> str:
    return str(client.get(f"{V1}/models/{model_id}").json()["status"])


def test_seeded_models_are_trained(sim: SimServer) -> None:
    with engine(sim) as client:
        models = {m["id"]: m for m in client.get(f"{V1}/models").json()}
    assert {k: (m["training_version"], m["status"]) for k, m in models.items()} == {
        300: ("light", "Completed"),
        301: ("max", "Completed"),
        302: ("fibo", "Completed"),
    }
    assert {m["dataset_id"] for m in models.values()} == {200}


def test_training_needs_a_completed_dataset(sim: SimServer) -> None:
    with engine(sim) as client:
        model = new_model(client, 201)
        response = client.post(f"{V1}/models/{model['id']}/start_training")
    assert response.status_code == 412


def test_starting_twice_is_409(sim: SimServer) -> None:
    with engine(sim) as client:
        model = new_model(client, 200)
        first = client.post(f"{V1}/models/{model['id']}/start_training")
        second = client.post(f"{V1}/models/{model['id']}/start_training")
        seeded = client.post(f"{V1}/models/300/start_training")
    assert (first.status_code, second.status_code, seeded.status_code) == (200, 409, 409)


def test_stopping_a_model_not_in_training_is_409(sim: SimServer) -> None:
    with engine(sim) as client:
        model = new_model(client, 200)
        created = client.post(f"{V1}/models/{model['id']}/stop_training")
        completed = client.post(f"{V1}/models/300/stop_training")
    assert (created.status_code, completed.status_code) == (409, 409)


def test_stop_passes_through_stopping_to_stopped(sim: SimServer) -> None:
    with engine(sim) as client:
        client.put(f"{sim.base_url}/_sim/timing", json={"training_seconds": 60})
        model = new_model(client, 200)
        client.post(f"{V1}/models/{model['id']}/start_training")
        stopped = client.post(f"{V1}/models/{model['id']}/stop_training")
        assert stopped.json()["status"] == "Stopping"
        again = client.post(f"{V1}/models/{model['id']}/stop_training")
        final = wait_for(
            lambda: client.get(f"{V1}/models/{model['id']}").json(),
            lambda m: m["status"] != "Stopping",
        )
        restart = client.post(f"{V1}/models/{model['id']}/start_training")
    assert again.status_code == 409
    assert final["status"] == "Stopped"
    assert restart.status_code == 409


def test_model_in_training_cannot_be_deleted(sim: SimServer) -> None:
    with engine(sim) as client:
        client.put(f"{sim.base_url}/_sim/timing", json={"training_seconds": 60})
        model = new_model(client, 200)
        client.post(f"{V1}/models/{model['id']}/start_training")
        model_delete = client.delete(f"{V1}/models/{model['id']}")
        dataset_delete = client.delete(f"{V1}/datasets/200")
        project_delete = client.delete(f"{V1}/projects/100")
        admin(sim).post(f"/models/{model['id']}/finish")
        after = client.delete(f"{V1}/models/{model['id']}")
        gone = client.get(f"{V1}/models/{model['id']}")
    assert (model_delete.status_code, dataset_delete.status_code) == (409, 409)
    assert project_delete.status_code == 409
    assert (after.status_code, gone.status_code) == (204, 404)


def test_training_failure_rate_ends_in_failed(sim: SimServer) -> None:
    with engine(sim) as client:
        client.put(f"{sim.base_url}/_sim/faults", json={"training_failure_rate": 1.0})
        model = new_model(client, 200)
        client.post(f"{V1}/models/{model['id']}/start_training")
        final = wait_for(
            lambda: client.get(f"{V1}/models/{model['id']}").json(),
            lambda m: m["status"] != "InProgress",
        )
    assert final["status"] == "Failed"


def test_admin_finish_and_clock_advance_skip_the_wait(sim: SimServer) -> None:
    with engine(sim) as client, admin(sim) as control:
        control.put("/timing", json={"training_seconds": 3600})
        first, second = new_model(client, 200), new_model(client, 200, "max")
        for model in (first, second):
            client.post(f"{V1}/models/{model['id']}/start_training")
        finished = control.post(f"/models/{first['id']}/finish", json={"status": "Failed"})
        assert _status(client, second["id"]) == "InProgress"
        control.post("/clock/advance", json={"seconds": 3600})
        assert finished.json()["status"] == "Failed"
        assert _status(client, first["id"]) == "Failed"
        assert _status(client, second["id"]) == "Completed"


def test_model_update_changes_name_only(sim: SimServer) -> None:
    with engine(sim) as client:
        renamed = client.put(f"{V1}/models/300", json={"name": "New name"})
        refused = client.put(f"{V1}/models/300", json={"training_version": "max"})
    assert renamed.json()["name"] == "New name"
    assert refused.status_code == 400


def test_create_model_validates_the_training_version(sim: SimServer) -> None:
    with engine(sim) as client:
        bad = client.post(
            f"{V1}/models", json={"name": "m", "dataset_id": 200, "training_version": "huge"}
        )
        upper = client.post(
            f"{V1}/models", json={"name": "m", "dataset_id": 200, "training_version": "MAX"}
        )
    assert bad.status_code == 400
    assert (upper.status_code, upper.json()["training_version"]) == (201, "max")


def test_download_of_a_trained_model(sim: SimServer) -> None:
    with engine(sim) as client:
        download = client.get(f"{V1}/models/300/download").json()
        weights = httpx.get(download["model_url"])
        untrained = client.get(f"{V1}/models/{new_model(client, 200)['id']}/download")
    assert weights.status_code == 200
    header_size = int.from_bytes(weights.content[:8], "little")
    assert b'"lora.weight"' in weights.content[8 : 8 + header_size]
    assert untrained.status_code == 409


def test_fibo_training_needs_a_visual_schema(sim: SimServer) -> None:
    with engine(sim) as client:
        dataset = completed_dataset(client)
        model = new_model(client, dataset["id"], "fibo")
        response = client.post(f"{V1}/models/{model['id']}/start_training")
    assert response.status_code == 412
