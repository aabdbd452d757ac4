"""Assets served by the simulator are real files: valid PNG and SVG."""

import xml.etree.ElementTree as ElementTree

import httpx

from bria_fleet.sim import SimServer
from tests.sim.helpers import V1, decode_png, engine, png


def test_generated_png_is_valid(sim: SimServer) -> None:
    with engine(sim) as client:
        body = {"prompt": "a boat", "num_results": 1, "sync": True, "aspect_ratio": "2:3"}
        url = client.post("/v1/text-to-image/tailored/300", json=body).json()["result"][0]["urls"][
            0
        ]
    assert url.startswith(f"{sim.base_url}/_sim/assets/")
    assert decode_png(httpx.get(url).content) == (256, 384)


def test_generated_svg_is_valid_xml(sim: SimServer) -> None:
    with engine(sim) as client:
        body = {"prompt": "a boat", "num_results": 1, "sync": True}
        url = client.post("/v1/text-to-vector/tailored/300", json=body).json()["result"][0]["urls"][
            0
        ]
    root = ElementTree.fromstring(httpx.get(url).content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (root.get("width"), root.get("height")) == ("256", "256")


def test_uploaded_image_is_served_back_unchanged(sim: SimServer) -> None:
    original = png(seed=99)
    with engine(sim) as client:
        image = client.post(
            f"{V1}/datasets/201/images", files={"file": ("x.png", original, "image/png")}
        ).json()
    assert httpx.get(image["image_url"]).content == original
    assert decode_png(httpx.get(image["thumbnail_url"]).content) == (128, 128)


def test_seeded_images_have_assets(sim: SimServer) -> None:
    with engine(sim) as client:
        image = client.get(f"{V1}/datasets/200/images/2001").json()
    assert decode_png(httpx.get(image["image_url"]).content) == (256, 256)


def test_unknown_asset_is_404(sim: SimServer) -> None:
    assert httpx.get(f"{sim.base_url}/_sim/assets/gen-999999.png").status_code == 404
