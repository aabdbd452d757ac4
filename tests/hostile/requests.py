"""A small valid request of each domain the corpus is sent to, named after its job."""

from typing import Any

from bria_fleet_contracts import Domain


def valid_request(domain: Domain, job_id: str) -> dict[str, Any]:
    """A valid request of ``domain`` that the simulator completes quickly."""
    if domain == "generation":
        return {
            "job_id": job_id,
            "op": "text_to_image",
            "model_id": "300",
            "prompt": f"a cat for {job_id[:40]}",
        }
    if domain == "ingest":
        return {
            "job_id": job_id,
            "op": "ingest_images",
            "project_id": "100",
            "dataset": {"name": f"ds-{job_id[-40:]}"},
            "images": [{"image_name": "a.png", "url": "https://assets.example.com/a.png"}],
        }
    raise ValueError(f"no valid request for {domain}")
