"""FIBO: visual schema, refine, bulk zip upload, and the asynchronous /v2 generation API."""

import io
import json
import zipfile
from typing import Any

import httpx

from bria_fleet.sim import SimServer
from tests.sim.helpers import V1, admin, decode_png, engine, png, wait_for

IMAGE = "/v2/image/generate/tailored"
STRUCTURED = "/v2/structured_prompt/generate/tailored"


def _post(sim: SimServer, path: str, body: dict[str, Any]) -> httpx.Response:
    with engine(sim) as client:
        return client.post(path, json=body)


def test_async_generation_reports_progress_then_result(sim: SimServer) -> None:
    submitted = _post(sim, IMAGE, {"tailored_model_id": "302", "prompt": "a red bag"})
    assert submitted.status_code == 202
    request_id, status_url = submitted.json()["request_id"], submitted.json()["status_url"]
    assert status_url == f"{sim.base_url}/v2/status/{request_id}"
    with engine(sim) as client:
        first = client.get(status_url).json()
        final = wait_for(
            lambda: client.get(status_url).json(), lambda s: s["status"] != "IN_PROGRESS"
        )
    assert (first["status"], first["result"]) == ("IN_PROGRESS", None)
    assert final["status"] == "COMPLETED"
    assert final["request_id"] == request_id
    assert decode_png(httpx.get(final["result"]["image_url"]).content) == (256, 256)
    assert json.loads(final["result"]["structured_prompt"])["short_description"] == "a red bag"


def test_sync_generation_answers_the_result(sim: SimServer) -> None:
    response = _post(sim, IMAGE, {"tailored_model_id": 302, "prompt": "a cup", "sync": True})
    assert response.status_code == 200
    assert response.json()["result"]["image_url"] == response.json()["image_url"]
    assert httpx.get(response.json()["result"]["image_url"]).status_code == 200


def test_input_combination_rules(sim: SimServer) -> None:
    structured = json.dumps({"short_description": "a cup"})
    cases: dict[str, dict[str, Any]] = {
        "nothing": {},
        "structured without seed": {"structured_prompt": structured},
        "structured with seed": {"structured_prompt": structured, "seed": 5},
        "refinement": {"structured_prompt": structured, "prompt": "make it blue"},
    }
    statuses = {
        name: _post(sim, IMAGE, {"tailored_model_id": 302} | body).status_code
        for name, body in cases.items()
    }
    assert statuses == {
        "nothing": 400,
        "structured without seed": 400,
        "structured with seed": 202,
        "refinement": 202,
    }


def test_v2_takes_fibo_models_only_and_errors_have_the_v2_shape(sim: SimServer) -> None:
    legacy = _post(sim, IMAGE, {"tailored_model_id": 300, "prompt": "x"})
    unknown = _post(sim, IMAGE, {"tailored_model_id": "model_fibo_123", "prompt": "x"})
    assert (legacy.status_code, unknown.status_code) == (400, 404)
    body = legacy.json()
    assert set(body) == {"error", "request_id"}
    assert set(body["error"]) == {"code", "message", "details"}


def test_structured_prompt_generation(sim: SimServer) -> None:
    sync = _post(sim, STRUCTURED, {"tailored_model_id": 302, "prompt": "a hat", "sync": True})
    refine = _post(
        sim,
        STRUCTURED,
        {"tailored_model_id": 302, "prompt": "blue", "structured_prompt": {"a": 1}, "sync": True},
    )
    alone = _post(sim, STRUCTURED, {"tailored_model_id": 302, "structured_prompt": "{}"})
    assert json.loads(sync.json()["structured_prompt"])["short_description"] == "a hat"
    assert json.loads(refine.json()["result"]["structured_prompt"])["refinements"] == ["blue"]
    assert alone.status_code == 400


def test_unknown_request_id_is_404(sim: SimServer) -> None:
    with engine(sim) as client:
        response = client.get("/v2/status/nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == 404


def test_generation_failure_ends_in_error(sim: SimServer) -> None:
    with admin(sim) as control:
        control.put("/faults", json={"generation_failure_rate": 1.0})
    submitted = _post(sim, IMAGE, {"tailored_model_id": 302, "prompt": "x"}).json()
    with engine(sim) as client, admin(sim) as control:
        control.post(f"/jobs/{submitted['request_id']}/finish")
        final = client.get(submitted["status_url"]).json()
    assert final["status"] == "ERROR"
    assert final["result"] is None
    assert set(final["error"]) >= {"code", "message"}


def test_finished_job_reports_its_completion_time(sim: SimServer) -> None:
    with admin(sim) as control:  # not finished on its own before the test finishes it
        control.put("/timing", json={"generation_seconds": 60})
    submitted = _post(sim, IMAGE, {"tailored_model_id": 302, "prompt": "x"}).json()
    with engine(sim) as client, admin(sim) as control:
        finished = control.post(f"/jobs/{submitted['request_id']}/finish").json()
        later = client.get(submitted["status_url"]).json()
    assert finished["status"] == later["status"] == "COMPLETED"
    assert later["updated_at"] == finished["updated_at"]


def test_visual_schema_takes_five_to_ten_samples(sim: SimServer) -> None:
    urls = [f"https://example.com/{n}.png" for n in range(11)]
    path = f"{V1}/generate_visual_schema"
    ok = _post(sim, path, {"images": urls[:5]})
    assert ok.status_code == 200
    assert json.loads(ok.json()["visual_schema"])["sample_count"] == 5
    assert _post(sim, path, {"images": urls[:4]}).status_code == 400
    assert _post(sim, path, {"images": urls}).status_code == 400


def test_refine_structured_prompt(sim: SimServer) -> None:
    response = _post(
        sim,
        f"{V1}/refine_structured_prompt",
        {"visual_schema": {"style": "flat"}, "instruction": "Character's name is Lucy"},
    )
    refined = json.loads(response.json()["visual_schema"])
    assert refined == {"style": "flat", "refinements": ["Character's name is Lucy"]}


def test_bulk_upload_of_a_zip(sim: SimServer) -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        for index in range(3):
            bundle.writestr(f"set/img_{index}.png", png(seed=index))
        bundle.writestr("__MACOSX/._img_0.png", b"junk")
    with engine(sim) as client:
        response = client.post(
            f"{V1}/datasets/201/images/bulk",
            files={"file": ("set.zip", archive.getvalue(), "application/zip")},
        )
        refused = client.post(
            f"{V1}/datasets/200/images/bulk",
            files={"file": ("set.zip", archive.getvalue(), "application/zip")},
        )
    assert response.status_code == 201
    assert response.json()["uploaded"] == 3
    assert response.json()["images_count"] == 6
    assert refused.status_code == 409
