"""The status route answered by the ASGI layer itself answers as the framework's route."""

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bria_fleet.sim.asgi_app import create_app
from bria_fleet.sim.config import SimConfig
from bria_fleet.sim.engine_v2 import STATUS_ROUTE
from bria_fleet.sim.middleware import SimMiddleware
from bria_fleet.sim.simulator import Simulator

TOKEN = {"api_token": SimConfig().token}


def _without_direct_routes(app: FastAPI) -> FastAPI:
    (layer,) = [m for m in app.user_middleware if m.cls is SimMiddleware]
    assert layer.kwargs["direct"]  # the status route is answered directly by default
    layer.kwargs["direct"] = ()
    return app


async def _answers(app: FastAPI, paths: list[str]) -> list[tuple[int, Any, dict[str, str]]]:
    answers = []
    async with _client(app) as client:
        for path in paths:
            response = await client.get(path)
            body = response.json() if response.content else None
            if isinstance(body, dict) and isinstance(body.get("error"), dict):
                body = {**body, "request_id": "random"}  # an error's id is drawn afresh
            answers.append((response.status_code, body, dict(response.headers)))
    return answers


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://sim", headers=TOKEN)


@pytest.mark.parametrize("generation_seconds", [0.0, 3600.0])
async def test_status_answers_are_the_framework_routes_answers(generation_seconds: float) -> None:
    sim = Simulator(SimConfig())
    sim.knobs.timing.generation_seconds = generation_seconds
    direct, framework = create_app(simulator=sim), _without_direct_routes(create_app(simulator=sim))
    async with _client(direct) as client:
        body = {"tailored_model_id": 302, "prompt": "a fox"}
        started = (await client.post("/v2/image/generate/tailored", json=body)).json()
    paths = [
        f"/v2/status/{started['request_id']}",
        "/v2/status/no-such-request",
        "/v2/status/a%20b",
        f"/v2/status/{started['request_id']}/",
    ]
    answers = await _answers(direct, paths)
    assert answers == await _answers(framework, paths)
    assert answers[1][0] == 404
    calls = sim.recorder.calls(route=STATUS_ROUTE)
    # Both record the same calls under the route's template (the last path is not the route's).
    assert len(calls) == 2 * 3
