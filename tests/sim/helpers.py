"""Helpers for the simulator tests: clients, images and polling."""

import base64
import struct
import time
import zlib
from collections.abc import Callable
from typing import Any

import httpx

from bria_fleet.sim import SimServer, render

V1 = "/v1/tailored-gen"
VS = "/api/v1/bria-lora"


def engine(sim: SimServer) -> httpx.Client:
    """A client of the engine API (header ``api_token``)."""
    return httpx.Client(base_url=sim.base_url, headers={"api_token": sim.token}, timeout=10)


def studio(sim: SimServer) -> httpx.Client:
    """A client of the Vision Studio API (header ``X-API-Key``)."""
    return httpx.Client(base_url=sim.base_url, headers={"X-API-Key": sim.token}, timeout=10)


def admin(sim: SimServer) -> httpx.Client:
    """A client of the admin routes (no token)."""
    return httpx.Client(base_url=f"{sim.base_url}/_sim", timeout=10)


def png(side: int = 256, seed: int = 7) -> bytes:
    """A valid square PNG."""
    return render.png(side, side, seed)


def png_b64(side: int = 256, seed: int = 7) -> str:
    """A valid square PNG, base64-encoded."""
    return base64.b64encode(png(side, seed)).decode()


def wait_for(
    read: Callable[[], dict[str, Any]], done: Callable[[dict[str, Any]], bool], timeout: float = 5
) -> dict[str, Any]:
    """Call ``read`` until ``done`` holds for its answer (or fail after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached; last value {value}")
        time.sleep(0.05)


def decode_png(data: bytes) -> tuple[int, int]:
    """Check a PNG fully (signature, chunk CRCs, pixel data size); return width and height."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks = 8, {}
    idat = b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        payload = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert zlib.crc32(kind + payload) & 0xFFFFFFFF == crc
        chunks[kind] = payload
        if kind == b"IDAT":
            idat += payload
        offset += 12 + length
    assert list(chunks)[-1] == b"IEND"
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2)
    assert len(zlib.decompress(idat)) == height * (1 + 3 * width)
    return width, height


def new_project(client: httpx.Client, name: str = "Brand") -> dict[str, Any]:
    """Create a project (engine) and return it."""
    body = {"project_name": name, "ip_medium": "illustration", "ip_type": "multi_object_set"}
    response = client.post(f"{V1}/projects", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def new_dataset(client: httpx.Client, project_id: int, images: int = 0) -> dict[str, Any]:
    """Create a draft dataset with ``images`` base64 uploads and return it."""
    response = client.post(f"{V1}/datasets", json={"project_id": project_id, "name": "ds"})
    assert response.status_code == 201, response.text
    dataset = dict(response.json())
    for index in range(images):
        upload = {"file": png_b64(seed=index), "image_name": f"img_{index}.png"}
        created = client.post(f"{V1}/datasets/{dataset['id']}/images", json=upload)
        assert created.status_code == 201, created.text
    return dataset


def completed_dataset(client: httpx.Client, images: int = 2) -> dict[str, Any]:
    """A fresh project's dataset with ``images`` images, marked completed."""
    project = new_project(client)
    dataset = new_dataset(client, project["id"], images)
    response = client.put(f"{V1}/datasets/{dataset['id']}", json={"status": "completed"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def new_model(client: httpx.Client, dataset_id: int, version: str = "light") -> dict[str, Any]:
    """Create a model on a dataset and return it."""
    body = {"name": f"model {version}", "dataset_id": dataset_id, "training_version": version}
    response = client.post(f"{V1}/models", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def trained_fibo_model_id(client: httpx.Client) -> int:
    """The id of a seeded FIBO model whose training is completed."""
    model_id: int = next(
        m["id"]
        for m in client.get(f"{V1}/models").json()
        if m["training_version"] == "fibo" and m["status"] == "Completed"
    )
    return model_id
