"""``/_sim``: reset, call log, counters, faults, timing, clock, fast-forwarding and assets."""

from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bria_fleet.sim.bodies import path_id
from bria_fleet.sim.clock import iso
from bria_fleet.sim.config import FaultConfig, TimingConfig
from bria_fleet.sim.errors import BadRequestError, ConflictError, NotFoundError
from bria_fleet.sim.metrics import exposition, metrics_registry
from bria_fleet.sim.simulator import Simulator
from bria_fleet.sim.views import model_view


def _lower_text(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _upper_text(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


class ResetRequest(BaseModel):
    """Reset to seeded (or, with ``empty``, to empty) state."""

    model_config = ConfigDict(extra="forbid")

    empty: bool | None = None


class AdvanceRequest(BaseModel):
    """Move the simulated clock forward."""

    seconds: float = Field(ge=0)


class FinishTraining(BaseModel):
    """End a training now (or after ``after_seconds``), as Completed or Failed."""

    status: Literal["completed", "failed"] | None = None
    after_seconds: float = Field(default=0.0, ge=0)

    _lower = field_validator("status", mode="before")(_lower_text)


class FinishJob(BaseModel):
    """End an asynchronous generation now, as COMPLETED or ERROR."""

    status: Literal["COMPLETED", "ERROR"] | None = None

    _upper = field_validator("status", mode="before")(_upper_text)


def build_router(sim: Simulator) -> APIRouter:
    """The admin routes, bound to ``sim`` (no token needed)."""
    router = APIRouter(prefix="/_sim")
    registry = metrics_registry(sim)

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(exposition(registry), media_type="text/plain; version=0.0.4")

    @router.get("/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok"}

    @router.post("/reset")
    async def reset(body: ResetRequest | None = None) -> dict[str, Any]:
        sim.reset(empty=body.empty if body else None)
        return {"status": "reset", "empty": not sim.state.projects}

    @router.get("/calls")
    async def calls(
        since: int = 0, route: str | None = None, method: str | None = None
    ) -> list[dict[str, Any]]:
        return sim.recorder.calls(since, route, method)

    @router.delete("/calls")
    async def clear_calls() -> Response:
        sim.recorder.clear()
        return Response(status_code=204)

    @router.get("/counters")
    async def counters() -> dict[str, Any]:
        return sim.counters.view()

    @router.get("/faults")
    async def get_faults() -> FaultConfig:
        return sim.knobs.faults

    @router.put("/faults")
    async def put_faults(body: FaultConfig) -> FaultConfig:
        sim.set_faults(body)
        return body

    @router.get("/timing")
    async def get_timing() -> TimingConfig:
        return sim.knobs.timing

    @router.put("/timing")
    async def put_timing(body: dict[str, Any]) -> TimingConfig:
        try:
            timing = TimingConfig.model_validate(sim.knobs.timing.model_dump() | body)
        except ValidationError as error:
            raise BadRequestError(str(error)) from error
        sim.set_timing(timing)
        return timing

    @router.get("/clock")
    async def clock() -> dict[str, Any]:
        now = sim.clock.now()
        return {"now": iso(now), "epoch": now, "offset_seconds": sim.clock.offset}

    @router.post("/clock/advance")
    async def advance(body: AdvanceRequest) -> dict[str, Any]:
        sim.clock.advance(body.seconds)
        now = sim.state.now()
        return {"now": iso(now), "epoch": now, "offset_seconds": sim.clock.offset}

    @router.post("/models/{model_id}/finish")
    async def finish_training(model_id: str, body: FinishTraining | None = None) -> dict[str, Any]:
        spec = body or FinishTraining()
        fail = None if spec.status is None else spec.status == "failed"
        model = sim.state.finish_training(path_id(model_id, "Model"), fail, spec.after_seconds)
        return model_view(model, sim.state.now())

    @router.post("/datasets/{dataset_id}/captions/finish")
    async def finish_captions(dataset_id: str) -> dict[str, Any]:
        dataset = sim.state.finish_captions(path_id(dataset_id, "Dataset"))
        return {"id": dataset.id, "captions_update_status": "completed"}

    @router.post("/jobs/{request_id}/finish")
    async def finish_job(request_id: str, body: FinishJob | None = None) -> dict[str, Any]:
        job = sim.jobs.get(request_id)
        if job is None:
            raise NotFoundError("Request ID not found or expired")
        now = sim.clock.now()
        if job.status_at(now) != "IN_PROGRESS":
            raise ConflictError("The request has already finished")
        job.done_at = now
        if body is not None and body.status is not None:
            job.fails = body.status == "ERROR"
        for asset_url in (job.result.get("image_url"), *job.result.get("image_urls", [])):
            if isinstance(asset_url, str) and "/_sim/assets/" in asset_url:
                asset_id = asset_url.rsplit("/", 1)[1].rpartition(".")[0]
                sim.assets.get(asset_id).ready_at = now
        return job.view(now)

    @router.get("/webhooks")
    async def webhooks() -> dict[str, Any]:
        return {
            "pending": len(sim.webhooks.pending),
            "attempts": [attempt.view() for attempt in sim.webhooks.attempts],
        }

    @router.get("/state")
    async def summary() -> dict[str, Any]:
        state = sim.state
        return {
            "projects": sorted(state.projects),
            "datasets": sorted(state.datasets),
            "models": sorted(state.models),
        }

    @router.get("/assets/{file_name}")
    async def asset(file_name: str) -> Response:
        found = sim.assets.find(file_name, sim.clock.now())
        if found is None:
            raise NotFoundError("Not Found")
        return Response(found.content(), media_type=found.media_type)

    return router
