"""Admin routes: reset, call log, counters that reveal duplicate effects, timing."""

import httpx

from bria_fleet.sim import SimServer
from tests.sim.helpers import V1, admin, engine, new_model, png_b64


def test_counters_reveal_duplicate_uploads(sim: SimServer) -> None:
    with engine(sim) as client, admin(sim) as control:
        for _ in range(2):
            client.post(
                f"{V1}/datasets/201/images", json={"file": png_b64(), "image_name": "dup.png"}
            )
        client.post(f"{V1}/datasets/201/images", json={"file": png_b64(), "image_name": "one.png"})
        duplicates = control.get("/counters").json()["duplicates"]["image_uploads"]
    assert duplicates == [{"dataset_id": 201, "image_name": "dup.png", "count": 2}]


def test_counters_reveal_duplicate_training_starts(sim: SimServer) -> None:
    with engine(sim) as client, admin(sim) as control:
        model = new_model(client, 200)
        client.post(f"{V1}/models/{model['id']}/start_training")
        client.post(f"{V1}/models/{model['id']}/start_training")
        counters = control.get("/counters").json()
    assert counters["duplicates"]["training_starts"] == [{"model_id": model["id"], "count": 2}]


def test_counters_reveal_duplicate_generation_requests(sim: SimServer) -> None:
    body = {"prompt": "same", "num_results": 1}
    with engine(sim) as client, admin(sim) as control:
        for key in ("job-1", "job-1", "job-2"):
            client.post(
                "/v1/text-to-image/tailored/300", json=body, headers={"Idempotency-Key": key}
            )
        duplicates = control.get("/counters").json()["duplicates"]
    route = "POST /v1/text-to-image/tailored/{model_id}"
    assert duplicates["idempotency_keys"] == [{"route": route, "key": "job-1", "count": 2}]
    assert duplicates["generation_requests"][0]["count"] == 3


def test_counters_reveal_duplicate_names(sim: SimServer) -> None:
    body = {"project_name": "Same", "ip_medium": "illustration", "ip_type": "icons"}
    with engine(sim) as client, admin(sim) as control:
        client.post(f"{V1}/projects", json=body)
        client.post(f"{V1}/projects", json=body)
        duplicates = control.get("/counters").json()["duplicates"]["created_names"]
    assert duplicates == [{"kind": "project", "name": "Same", "count": 2}]


def test_counters_count_routes_and_statuses(sim: SimServer) -> None:
    with engine(sim) as client, admin(sim) as control:
        client.get(f"{V1}/models/300")
        client.get(f"{V1}/models/999")
        counters = control.get("/counters").json()
    route = "GET /v1/tailored-gen/models/{model_id}"
    assert counters["routes"][route] == 2
    assert counters["statuses"][f"{route} 200"] == 1
    assert counters["statuses"][f"{route} 404"] == 1


def test_call_log_records_route_status_and_fields(sim: SimServer) -> None:
    with engine(sim) as client, admin(sim) as control:
        client.post(f"{V1}/datasets", json={"project_id": 100, "name": "logged"})
        client.post(
            f"{V1}/datasets/201/images",
            files={"file": ("f.png", b"not an image", "image/png")},
            data={"image_name": "f.png"},
        )
        calls = control.get("/calls", params={"method": "POST"}).json()
    created, upload = calls
    assert (created["route"], created["status"]) == ("/v1/tailored-gen/datasets", 201)
    assert created["fields"] == {"project_id": 100, "name": "logged"}
    assert upload["route"] == "/v1/tailored-gen/datasets/{dataset_id}/images"
    assert upload["status"] == 415
    assert upload["fields"] == {"image_name": "f.png"}
    assert upload["time"].endswith("Z")


def test_reset_restores_the_seeded_state_or_empties_it(sim: SimServer) -> None:
    with engine(sim) as client:
        client.delete(f"{V1}/models/300")
        sim.reset()
        restored = client.get(f"{V1}/models/300").status_code
        sim.reset(empty=True)
        empty = client.get(f"{V1}/projects").json()
    assert restored == 200
    assert empty == []


def test_timing_is_settable_at_run_time(sim: SimServer) -> None:
    with admin(sim) as control:
        changed = control.put("/timing", json={"training_seconds": 12}).json()
        refused = control.put("/timing", json={"training_seconds": -1})
    assert changed["training_seconds"] == 12
    assert refused.status_code == 400


def test_ids_are_never_handed_out_twice_even_across_a_reset(sim: SimServer) -> None:
    def create_project() -> str:
        answer = httpx.post(
            f"{sim.base_url}/v1/tailored-gen/projects",
            headers={"api_token": sim.token},
            json={"project_name": "p", "ip_type": "stylized_scene", "ip_medium": "illustration"},
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["id"])

    before = create_project()
    httpx.post(f"{sim.base_url}/_sim/reset").raise_for_status()

    assert create_project() != before


def test_metrics_count_the_calls_answered_by_route_and_status(sim: SimServer) -> None:
    with engine(sim) as client, admin(sim) as control:
        client.get(f"{V1}/projects")
        client.get(f"{V1}/projects/999999")
        text = control.get("/metrics").text
    assert (
        'bria_sim_requests_total{method="GET",route="/v1/tailored-gen/projects",status="200"} 1.0'
        in text
    )
    assert 'route="/v1/tailored-gen/projects/{project_id}",status="404"} 1.0' in text
    assert "bria_sim_webhooks_pending 0.0" in text
