"""The token reaches the API and nothing else: not logs, reprs or error messages."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest

from bria_fleet.api import BriaApiError, Throttle, create_api
from tests.api.conftest import TOKEN, Recorder, json_response, make_api, settings


@dataclass
class RawServer:
    """A minimal HTTP/1.1 server on 127.0.0.1 that records raw requests."""

    base_url: str = ""
    requests: list[bytes] = field(default_factory=list)
    status: int = 200
    body: object = field(default_factory=lambda: {"id": 1, "status": "Completed"})


@pytest.fixture
async def raw_server() -> AsyncIterator[RawServer]:
    state = RawServer()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        state.requests.append(head)
        payload = json.dumps(state.body).encode()
        writer.write(
            f"HTTP/1.1 {state.status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    state.base_url = f"http://127.0.0.1:{port}"
    async with server:
        yield state


@pytest.mark.parametrize("backend", ["engine", "vision-studio"])
async def test_token_is_sent_in_the_backend_header_but_never_logged(
    backend: str, raw_server: RawServer, caplog: pytest.LogCaptureFixture
) -> None:
    header = {"engine": b"api_token", "vision-studio": b"x-api-key"}[backend]
    api = create_api(settings(backend, base_url=raw_server.base_url), throttle=Throttle())
    for name in (None, "httpx", "aiohttp", "bria_fleet"):
        caplog.set_level(logging.DEBUG, logger=name)
    await api.get_model("1")
    logging.getLogger("httpx").debug("a library logging headers: %s", {"api_token": TOKEN})
    logging.getLogger("aiohttp.client").debug("the pool logging headers: %s", {"x": TOKEN})
    await api.aclose()
    sent = raw_server.requests[0].lower()
    assert header + b": " + TOKEN.lower().encode() in sent
    assert {r.name.split(".")[0] for r in caplog.records} >= {"httpx", "aiohttp", "bria_fleet"}
    assert TOKEN not in caplog.text
    assert "[redacted]" in caplog.text


async def test_token_is_not_in_reprs() -> None:
    api_settings = settings()
    api = make_api(Recorder(json_response(200, {})))
    transport = api._transport
    for text in (repr(api_settings), str(api_settings), repr(api), repr(transport)):
        assert TOKEN not in text
    assert TOKEN not in repr(transport._client.auth)
    assert TOKEN not in repr(api_settings.model_dump())


async def test_token_is_not_in_transport_error_messages(caplog: pytest.LogCaptureFixture) -> None:
    api = make_api(Recorder(httpx.ConnectError("refused")), retry_attempts=2)
    with caplog.at_level(logging.DEBUG), pytest.raises(BriaApiError) as caught:
        await api.list_projects()
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)
    assert TOKEN not in caplog.text
    assert "retrying GET /v1/tailored-gen/projects" in caplog.text


async def test_missing_token_fails_fast_naming_the_setting() -> None:
    with pytest.raises(Exception, match="BRIA_API_TOKEN"):
        create_api(settings(token=None))
