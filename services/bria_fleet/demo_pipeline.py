"""The demo: a folder of images all the way to generated assets, as one pipeline message.

Logic only (which images, which request, which events mean what); the command in
``cli/demo.py`` draws it.
"""

import base64
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bria_fleet.errors import BriaFleetError
from bria_fleet.sim.render import png
from bria_fleet_contracts import Domain, is_terminal
from bria_fleet_contracts.examples import example_payload, pipeline_example

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}
MAX_REQUEST_BYTES = 900_000  # under Kafka's default 1 MB message limit
STEPS: tuple[tuple[str, Domain], ...] = (
    ("", "ingest"),
    ("/caption", "caption"),
    ("/caption/train", "training"),
    ("/caption/train/generate", "generation"),
)


def sample_images(count: int = 12) -> list[tuple[str, bytes]]:
    """Generated 512x512 PNGs, for a demo run without a folder."""
    return [(f"sample-{n:02d}.png", png(512, 512, seed=n)) for n in range(1, count + 1)]


def folder_images(folder: Path) -> list[tuple[str, bytes]]:
    """The images of ``folder`` (png, jpg, webp), by name."""
    if not folder.is_dir():
        raise BriaFleetError(f"{folder} is not a folder of images.")
    images = [
        (path.name, path.read_bytes())
        for path in sorted(folder.iterdir())
        if path.suffix.lower() in IMAGE_SUFFIXES
    ]
    if not images:
        raise BriaFleetError(f"{folder} has no .png, .jpg or .webp images.")
    return images


def pipeline_request(images: list[tuple[str, bytes]]) -> dict[str, Any]:
    """The pipeline example with these images (base64) and a job id and dataset of its own."""
    request = example_payload(pipeline_example())
    run = uuid.uuid4().hex[:6]
    request["job_id"] = f"demo-{run}"
    request["dataset"]["name"] = f"demo-{run}"
    request["images"] = [
        {"image_name": name, "base64": base64.b64encode(data).decode()} for name, data in images
    ]
    if sum(len(image["base64"]) for image in request["images"]) > MAX_REQUEST_BYTES:
        raise BriaFleetError(
            "these images are too large to travel in one Kafka message; host them and give"
            " their URLs in a request file instead (see contracts/examples/ingest)."
        )
    return request


@dataclass
class StepState:
    """What the demo knows about one step of the pipeline."""

    domain: Domain
    job_id: str
    status: str = "waiting"
    done: int = 0
    total: int | None = None
    ended_after: float | None = None
    terminal: dict[str, Any] | None = None


@dataclass
class PipelineRun:
    """Follows one pipeline's events and says how far each step got."""

    job_id: str
    images: int
    started: float = field(default_factory=time.monotonic)
    steps: dict[Domain, StepState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for suffix, domain in STEPS:
            self.steps[domain] = StepState(domain, f"{self.job_id}{suffix}")
        self.steps["ingest"].total = self.images

    def apply(self, event: dict[str, Any]) -> None:
        """Take an event of any domain into account (others' events are ignored)."""
        step = next((s for s in self.steps.values() if s.job_id == event["job_id"]), None)
        if step is None:
            return
        data = event.get("data") or {}
        kind = event["type"].rsplit(".", 1)[-1]
        if event["type"] == "ingest.progress":
            step.done, step.status = data["processed"], "uploading"
        elif event["type"] == "training.status_changed":
            step.status = str(data["status"])
        elif not is_terminal(event["type"]):
            step.status = kind
        if is_terminal(event["type"]):
            step.status, step.terminal = kind, event
            step.ended_after = time.monotonic() - self.started
            if step.total is not None:
                step.done = step.total

    @property
    def finished(self) -> bool:
        """The last step ended, or any step ended without completing."""
        last = self.steps["generation"].terminal is not None
        failed = any(
            s.terminal is not None and not s.terminal["type"].endswith(".completed")
            for s in self.steps.values()
        )
        return last or failed

    @property
    def assets(self) -> list[str]:
        """The generated asset URLs, once the last step completed."""
        terminal = self.steps["generation"].terminal
        if terminal is None or terminal["type"] != "generation.completed":
            return []
        return [asset["url"] for asset in terminal["data"]["assets"]]
