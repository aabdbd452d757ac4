"""Regenerate-all-captions: ``captions_update_status`` goes in_progress, then completed."""

from bria_fleet.sim import SimServer
from bria_fleet.sim.captions import caption_for
from tests.sim.helpers import V1, admin, engine, wait_for


def test_regeneration_passes_through_in_progress(sim: SimServer) -> None:
    with engine(sim) as client:
        assert client.get(f"{V1}/datasets/201").json()["captions_update_status"] == "empty"
        client.put(f"{V1}/datasets/201", json={"caption_prefix": "A brand new prefix,"})
        started = client.put(f"{V1}/datasets/201/images")
        assert started.status_code == 200
        assert started.json()["captions_update_status"] == "in_progress"
        done = wait_for(
            lambda: client.get(f"{V1}/datasets/201").json(),
            lambda d: d["captions_update_status"] == "completed",
        )
    for image in done["images"]:
        assert image["caption"] == caption_for("A brand new prefix,", image["image_name"])
        assert image["caption_source"] == "automatic"
    assert done["updated_at"] == max(image["updated_at"] for image in done["images"])


def test_admin_can_finish_a_regeneration(sim: SimServer) -> None:
    with engine(sim) as client, admin(sim) as control:
        control.put("/timing", json={"caption_seconds": 3600})
        client.put(f"{V1}/datasets/201/images")
        in_progress = client.get(f"{V1}/datasets/201").json()["captions_update_status"]
        finished = control.post("/datasets/201/captions/finish")
        after = client.get(f"{V1}/datasets/201").json()["captions_update_status"]
    assert (in_progress, finished.status_code, after) == ("in_progress", 200, "completed")


def test_generate_prefix_takes_one_to_six_samples(sim: SimServer) -> None:
    urls = [f"https://example.com/{n}.png" for n in range(7)]
    with engine(sim) as client:
        ok = client.post(f"{V1}/generate_prefix", json={"dataset_id": 201, "images": urls[:6]})
        too_many = client.post(f"{V1}/generate_prefix", json={"images": urls})
        none = client.post(f"{V1}/generate_prefix", json={"images": []})
    assert ok.status_code == 200
    assert ok.json()["prefix"].endswith(",")
    assert (too_many.status_code, none.status_code) == (400, 400)


def test_generate_prefix_refuses_other_ip_types(sim: SimServer) -> None:
    with engine(sim) as client:
        project = client.post(
            f"{V1}/projects",
            json={"project_name": "icons", "ip_medium": "illustration", "ip_type": "icons"},
        ).json()
        response = client.post(
            f"{V1}/generate_prefix",
            json={"project_id": project["id"], "images": ["https://example.com/a.png"]},
        )
    assert response.status_code == 400
