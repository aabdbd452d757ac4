"""Authentication: the token as ``api_token`` or ``X-API-Key``; 401 in each family's shape."""

import httpx
import pytest

from bria_fleet.sim import SimServer


@pytest.mark.parametrize(
    "path", ["/v1/tailored-gen/projects", "/v2/status/x", "/api/v1/bria-lora/projects"]
)
def test_missing_token_is_401(sim: SimServer, path: str) -> None:
    response = httpx.get(f"{sim.base_url}{path}")
    assert response.status_code == 401


def test_wrong_token_is_401(sim: SimServer) -> None:
    url = f"{sim.base_url}/v1/tailored-gen/projects"
    assert httpx.get(url, headers={"api_token": "wrong"}).status_code == 401
    assert httpx.get(url, headers={"X-API-Key": "wrong"}).status_code == 401


@pytest.mark.parametrize("header", ["api_token", "X-API-Key"])
@pytest.mark.parametrize("path", ["/v1/tailored-gen/projects", "/api/v1/bria-lora/projects"])
def test_either_header_is_accepted_everywhere(sim: SimServer, header: str, path: str) -> None:
    response = httpx.get(f"{sim.base_url}{path}", headers={header: sim.token})
    assert response.status_code == 200


def test_401_bodies_follow_each_family(sim: SimServer) -> None:
    v1 = httpx.get(f"{sim.base_url}/v1/tailored-gen/models").json()
    v2 = httpx.get(f"{sim.base_url}/v2/status/abc").json()
    studio = httpx.get(f"{sim.base_url}/api/v1/bria-lora/models").json()
    assert v1 == {"message": "Unauthorized"}
    assert v2["error"]["code"] == 401
    assert v2["error"]["message"] == "Unauthorized"
    assert "request_id" in v2
    assert studio == {"detail": "Unauthorized"}


def test_admin_and_health_need_no_token(sim: SimServer) -> None:
    assert httpx.get(f"{sim.base_url}/_sim/health").status_code == 200
    assert httpx.get(f"{sim.base_url}/health").json() == {
        "status": "success",
        "result": {"status": "ok"},
    }
