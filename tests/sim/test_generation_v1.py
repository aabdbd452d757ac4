"""Engine v1 generation: fields, guidance rules, moderation, IP warning, async URLs."""

import base64
from typing import Any

import httpx
import pytest

from bria_fleet.sim import SimServer, render
from bria_fleet.sim.generation import IP_WARNING
from tests.sim.helpers import V1, admin, decode_png, engine, new_model, png_b64, wait_for

T2I = "/v1/text-to-image/tailored"


def _generate(sim: SimServer, path: str, body: dict[str, Any]) -> httpx.Response:
    with engine(sim) as client:
        return client.post(path, json=body)


def test_sync_text_to_image_returns_ready_pngs(sim: SimServer) -> None:
    response = _generate(sim, f"{T2I}/300", {"prompt": "a cat", "num_results": 2, "sync": True})
    assert response.status_code == 200
    results = response.json()["result"]
    assert len(results) == 2
    for result in results:
        image = httpx.get(result["urls"][0])
        assert image.headers["content-type"] == "image/png"
        assert decode_png(image.content) == (256, 256)
    assert "warning" not in response.json()


def test_async_urls_become_available_after_generation(sim: SimServer) -> None:
    # Long enough that a loaded machine still asks before the image is ready.
    with admin(sim) as control:
        control.put("/timing", json={"generation_seconds": 1.5})
    response = _generate(sim, f"{T2I}/301", {"prompt": "a dog", "num_results": 1})
    url = response.json()["result"][0]["urls"][0]
    assert httpx.get(url).status_code == 404
    wait_for(lambda: {"status": httpx.get(url).status_code}, lambda r: r["status"] == 200)


def test_seed_and_aspect_ratio_are_honoured(sim: SimServer) -> None:
    body = {"prompt": "a tree", "num_results": 1, "sync": True, "seed": 42, "aspect_ratio": "16:9"}
    result = _generate(sim, f"{T2I}/300", body).json()["result"][0]
    assert result["seed"] == 42
    assert decode_png(httpx.get(result["urls"][0]).content) == (455, 256)


@pytest.mark.parametrize(
    "body",
    [
        {"prompt": "x", "num_results": 5},
        {"prompt": "x", "num_results": 0},
        {"prompt": "x", "aspect_ratio": "7:3"},
        {"prompt": "x", "steps_num": 30},
        {"num_results": 1},
    ],
)
def test_field_validation_is_400(sim: SimServer, body: dict[str, Any]) -> None:
    assert _generate(sim, f"{T2I}/300", body).status_code == 400


def test_guidance_method_2_needs_method_1(sim: SimServer) -> None:
    body = {
        "prompt": "x",
        "guidance_method_2": "controlnet_canny",
        "guidance_method_2_scale": 0.5,
        "guidance_method_2_image_file": png_b64(),
    }
    assert _generate(sim, f"{T2I}/300", body).status_code == 400


def test_guidance_methods_are_checked(sim: SimServer) -> None:
    good = {
        "prompt": "x",
        "sync": True,
        "guidance_method_1": "controlnet_depth",
        "guidance_method_1_scale": 0.8,
        "guidance_method_1_image_file": png_b64(),
        "guidance_method_2": "controlnet_canny",
        "guidance_method_2_scale": 1.0,
        "guidance_method_2_image_file": png_b64(seed=3),
    }
    unknown = good | {"guidance_method_1": "controlnet_magic"}
    no_image = good | {"guidance_method_1_image_file": None}
    scale = good | {"guidance_method_1_scale": 1.5}
    no_scale = good | {"guidance_method_2_scale": None}
    wide = base64.b64encode(render.png(512, 256, 1)).decode()
    uneven = good | {"guidance_method_2_image_file": wide}
    statuses = [
        _generate(sim, f"{T2I}/300", body).status_code
        for body in (good, unknown, no_image, scale, no_scale, uneven)
    ]
    assert statuses == [200, 400, 400, 400, 400, 400]


def test_image_prompt_needs_an_image(sim: SimServer) -> None:
    body = {"prompt": "x", "image_prompt_mode": "regular", "image_prompt_scale": 0.5}
    assert _generate(sim, f"{T2I}/300", body).status_code == 400
    body["image_prompt_urls"] = ["https://example.com/a.png"]
    assert _generate(sim, f"{T2I}/300", body).status_code == 200


def test_protected_names_get_the_documented_warning(sim: SimServer) -> None:
    response = _generate(sim, f"{T2I}/300", {"prompt": "Mickey Mouse on a boat"})
    assert response.status_code == 200
    assert response.json()["warning"] == IP_WARNING


def test_content_moderation(sim: SimServer) -> None:
    blocked_prompt = {"prompt": "something nsfw", "prompt_content_moderation": True}
    unchecked = {"prompt": "something nsfw"}
    blocked_input = {
        "prompt": "x",
        "content_moderation": True,
        "image_prompt_mode": "regular",
        "image_prompt_urls": ["https://example.com/nsfw.png"],
    }
    assert _generate(sim, f"{T2I}/300", blocked_prompt).status_code == 422
    assert _generate(sim, f"{T2I}/300", unchecked).status_code == 200
    assert _generate(sim, f"{T2I}/300", blocked_input).status_code == 422


def test_model_must_exist_be_trained_and_be_legacy(sim: SimServer) -> None:
    with engine(sim) as client:
        untrained = new_model(client, 200)["id"]
    assert _generate(sim, f"{T2I}/999", {"prompt": "x"}).status_code == 404
    assert _generate(sim, f"{T2I}/{untrained}", {"prompt": "x"}).status_code == 400
    assert _generate(sim, f"{T2I}/302", {"prompt": "x"}).status_code == 400


def test_text_to_vector_returns_svg(sim: SimServer) -> None:
    response = _generate(
        sim, "/v1/text-to-vector/tailored/300", {"prompt": "a fox", "sync": True, "num_results": 1}
    )
    url = response.json()["result"][0]["urls"][0]
    svg = httpx.get(url)
    assert url.endswith(".svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg")


def test_text_to_vector_needs_an_illustrative_model(sim: SimServer) -> None:
    with engine(sim) as client:
        project = client.post(
            f"{V1}/projects",
            json={"project_name": "p", "ip_medium": "photography", "ip_type": "stylized_scene"},
        ).json()
        dataset = client.post(f"{V1}/datasets", json={"project_id": project["id"]}).json()
        client.post(f"{V1}/datasets/{dataset['id']}/images", json={"file": png_b64()})
        client.put(f"{V1}/datasets/{dataset['id']}", json={"status": "completed"})
        model = new_model(client, dataset["id"])
        client.post(f"{V1}/models/{model['id']}/start_training")
        client.post(f"{sim.base_url}/_sim/models/{model['id']}/finish")
        response = client.post(f"/v1/text-to-vector/tailored/{model['id']}", json={"prompt": "x"})
    assert response.status_code == 400


def test_reimagine_needs_a_structure_image(sim: SimServer) -> None:
    path = "/v1/reimagine/tailored/300"
    assert _generate(sim, path, {"prompt": "x"}).status_code == 400
    with_image = {"prompt": "x", "structure_image_file": png_b64(), "sync": True}
    assert _generate(sim, path, with_image).status_code == 200


def test_restyle_portrait_takes_light_models_only(sim: SimServer) -> None:
    path = f"{V1}/restyle_portrait"
    body = {"tailored_model_id": "300", "id_image_url": "https://example.com/face.jpg"}
    assert _generate(sim, path, body).status_code == 200
    assert _generate(sim, path, body | {"tailored_model_id": 301}).status_code == 400
    assert _generate(sim, path, {"tailored_model_id": 300}).status_code == 400
