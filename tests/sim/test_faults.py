"""Fault injection: 429 bursts with Retry-After, 5xx rates, outages, latency, after-effects."""

import time

import httpx

from bria_fleet.sim import SimServer
from tests.sim.helpers import V1, admin, engine

PROJECTS = f"{V1}/projects"


def _statuses(client: httpx.Client, count: int) -> list[int]:
    return [client.get(PROJECTS).status_code for _ in range(count)]


def test_rate_limit_bursts_answer_429_with_retry_after(sim: SimServer) -> None:
    with admin(sim) as control, engine(sim) as client:
        control.put(
            "/faults", json={"rate_limits": [{"allowed": 2, "burst": 1, "retry_after_seconds": 3}]}
        )
        responses = [client.get(PROJECTS) for _ in range(6)]
    assert [r.status_code for r in responses] == [200, 200, 429, 200, 200, 429]
    limited = responses[2]
    assert limited.headers["Retry-After"] == "3"
    assert limited.json()["message"].startswith("Request limit exceeded")


def test_throttle_window_answers_429_until_it_ends(sim: SimServer) -> None:
    with admin(sim) as control, engine(sim) as client:
        control.put("/faults", json={"throttle_seconds": 30})
        limited = client.get(PROJECTS)
        control.post("/clock/advance", json={"seconds": 31})
        after = client.get(PROJECTS)
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["Retry-After"]) <= 30
    assert after.status_code == 200


def test_error_rate_applies_to_matching_routes_only(sim: SimServer) -> None:
    with admin(sim) as control, engine(sim) as client:
        control.put(
            "/faults", json={"errors": [{"pattern": "/v1/tailored-gen/models*", "rate": 1.0}]}
        )
        models = client.get(f"{V1}/models")
        projects = client.get(PROJECTS)
    assert (models.status_code, projects.status_code) == (500, 200)


def test_error_rate_is_a_seeded_share(sim: SimServer) -> None:
    rule = {"errors": [{"rate": 0.5, "status": 503}], "seed": 7}
    with admin(sim) as control, engine(sim) as client:
        control.put("/faults", json=rule)
        first = _statuses(client, 200)
        control.put("/faults", json=rule)
        second = _statuses(client, 200)
    assert set(first) == {200, 503}
    assert 60 < first.count(503) < 140
    assert first == second


def test_outage_answers_503_for_its_window(sim: SimServer) -> None:
    with admin(sim) as control, engine(sim) as client:
        control.put("/faults", json={"outage_seconds": 10})
        down = client.get(PROJECTS)
        control.post("/clock/advance", json={"seconds": 11})
        up = client.get(PROJECTS)
    assert down.status_code == 503
    assert "Retry-After" in down.headers
    assert up.status_code == 200


def test_latency_delays_answers(sim: SimServer) -> None:
    with admin(sim) as control, engine(sim) as client:
        control.put("/faults", json={"latency": {"fixed_seconds": 0.2, "jitter_seconds": 0.05}})
        started = time.perf_counter()
        client.get(PROJECTS)
        elapsed = time.perf_counter() - started
    assert 0.2 <= elapsed < 1.0


def test_error_after_effect_still_creates_the_object(sim: SimServer) -> None:
    with admin(sim) as control, engine(sim) as client:
        control.put(
            "/faults",
            json={
                "errors": [
                    {"pattern": PROJECTS, "methods": ["POST"], "rate": 1.0, "after_effect": True}
                ]
            },
        )
        body = {"project_name": "twice", "ip_medium": "illustration", "ip_type": "icons"}
        failed = client.post(PROJECTS, json=body)
        names = [p["project_name"] for p in client.get(PROJECTS).json()]
    assert failed.status_code == 500
    assert "twice" in names


def test_faults_are_recorded_in_the_call_log(sim: SimServer) -> None:
    with admin(sim) as control, engine(sim) as client:
        control.put("/faults", json={"rate_limits": [{"allowed": 0, "burst": 1}]})
        client.get(PROJECTS)
        calls = control.get("/calls").json()
    assert calls[-1]["fault"] == "rate_limit"
    assert calls[-1]["status"] == 429


def test_a_hang_after_the_effect_is_a_read_timeout_for_a_generation_that_ran(
    sim: SimServer,
) -> None:
    fault = {
        "pattern": "/v1/text-to-image/tailored/*",
        "methods": ["POST"],
        "rate": 1.0,
        "status": 504,
        "after_effect": True,
        "hang_seconds": 1.0,
    }
    with admin(sim) as control, engine(sim) as client:
        control.put("/faults", json={"errors": [fault]})
        model = next(m for m in client.get(f"{V1}/models").json() if m["status"] == "Completed")
        timeouts = 0
        for _ in range(2):
            try:
                client.post(
                    f"/v1/text-to-image/tailored/{model['id']}",
                    json={"prompt": "a lost answer", "sync": True},
                    timeout=0.3,
                )
            except httpx.ReadTimeout:
                timeouts += 1
        time.sleep(1.2)  # until the simulator has sent its late answers and counted them
        counters = control.get("/counters").json()
    assert timeouts == 2
    # Both generations ran although neither answer arrived: the effect happened twice.
    (repeated,) = counters["duplicates"]["generation_requests"]
    assert repeated["count"] == 2
