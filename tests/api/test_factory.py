"""``create_api`` picks the backend from settings and shares the process budget."""

from __future__ import annotations

import httpx
import pytest

from bria_fleet.api import AUTH_HEADERS, BriaApi, EngineApi, VisionStudioApi, create_api
from bria_fleet.api._transport import _CookielessClient
from tests.api.conftest import settings


@pytest.mark.parametrize(
    ("backend", "cls", "header"),
    [("engine", EngineApi, "api_token"), ("vision-studio", VisionStudioApi, "X-API-Key")],
)
async def test_the_backend_setting_picks_the_implementation_and_its_header(
    backend: str, cls: type[BriaApi], header: str
) -> None:
    async with create_api(settings(backend)) as api:
        assert type(api) is cls
        assert api.backend == backend
        assert AUTH_HEADERS[backend] == header


async def test_clients_of_one_process_share_the_request_budget() -> None:
    first = create_api(settings(requests_per_second=5))
    second = create_api(settings("vision-studio", requests_per_second=5))
    try:
        assert first._transport.throttle is second._transport.throttle
    finally:
        await first.aclose()
        await second.aclose()


async def test_timeouts_come_from_settings() -> None:
    async with create_api(settings(timeout_seconds=12.0, connect_timeout_seconds=2.0)) as api:
        timeout = api._transport._client.timeout
    assert (timeout.read, timeout.connect) == (12.0, 2.0)


async def test_the_client_keeps_no_cookie_an_answer_sets() -> None:
    """The API authenticates by header; reading Set-Cookie cost CPU on every answer."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"set-cookie": "session=abc"}, json={"ok": True})

    client = _CookielessClient(transport=httpx.MockTransport(answer))
    async with client:
        await client.get("http://api.test/a")
        second = await client.get("http://api.test/b")
    assert "cookie" not in second.request.headers
    assert dict(client.cookies) == {}
    async with create_api(settings()) as api:
        assert isinstance(api._transport._client, _CookielessClient)
