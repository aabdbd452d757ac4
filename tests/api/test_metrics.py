"""Every attempt is counted by route template, method and status, and timed by route."""

from __future__ import annotations

import httpx

from bria_fleet.metrics import REGISTRY
from tests.api.conftest import Recorder, json_response, make_api

MODEL_ROUTE = "/v1/tailored-gen/models/{model_id}"


def count(route: str, method: str, status: str) -> float:
    labels = {"route": route, "method": method, "status": status}
    return REGISTRY.get_sample_value("bria_fleet_api_requests_total", labels) or 0.0


def observations(route: str) -> float:
    labels = {"route": route}
    return REGISTRY.get_sample_value("bria_fleet_api_request_duration_seconds_count", labels) or 0.0


async def test_each_attempt_is_counted_with_the_route_template_and_its_status() -> None:
    before_503 = count(MODEL_ROUTE, "GET", "503")
    before_200 = count(MODEL_ROUTE, "GET", "200")
    before_timed = observations(MODEL_ROUTE)
    recorder = Recorder(json_response(503), json_response(200, {"id": 98765}))
    api = make_api(recorder)
    await api.get_model("98765")
    assert count(MODEL_ROUTE, "GET", "503") == before_503 + 1
    assert count(MODEL_ROUTE, "GET", "200") == before_200 + 1
    assert observations(MODEL_ROUTE) == before_timed + 2
    concrete = "/v1/tailored-gen/models/98765"
    assert count(concrete, "GET", "200") == 0
    assert observations(concrete) == 0


async def test_timeouts_and_connection_errors_are_counted_by_kind() -> None:
    route = "/v2/status/{request_id}"
    before_timeout = count(route, "GET", "timeout")
    before_connection = count(route, "GET", "connection_error")
    recorder = Recorder(
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        json_response(200, {"status": "IN_PROGRESS", "request_id": "r1"}),
    )
    api = make_api(recorder)
    await api.get_async_result("r1")
    assert count(route, "GET", "timeout") == before_timeout + 1
    assert count(route, "GET", "connection_error") == before_connection + 1


async def test_vision_studio_routes_are_labelled_with_their_templates() -> None:
    route = "/api/v1/bria-lora/models/{model_id}/training/start"
    before = count(route, "POST", "200")
    body = {"status": "success", "result": {"id": 5, "status": "InProgress"}}
    api = make_api(Recorder(json_response(200, body)), backend="vision-studio")
    await api.start_training("5")
    assert count(route, "POST", "200") == before + 1
