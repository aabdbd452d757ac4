"""``create_api``: the backend chosen by ``BRIA_BACKEND``, on one shared transport."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import httpx

from bria_fleet.api._api import BriaApi
from bria_fleet.api._engine import EngineApi
from bria_fleet.api._redact import protect_secret
from bria_fleet.api._retry import RetryPolicy
from bria_fleet.api._throttle import Throttle, shared_throttle
from bria_fleet.api._transport import HeaderAuth, Transport
from bria_fleet.api._vision_studio import VisionStudioApi
from bria_fleet.errors import BriaFleetError
from bria_fleet.settings import ApiSettings

__all__ = ["AUTH_HEADERS", "create_api"]

AUTH_HEADERS = {"engine": "api_token", "vision-studio": "X-API-Key"}
"""The header that carries the token, per backend."""


def create_api(
    settings: ApiSettings,
    *,
    client: httpx.AsyncClient | None = None,
    throttle: Throttle | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> BriaApi:
    """The ``BriaApi`` for ``settings.backend``; create one per process and share it.

    By default requests share the process-wide throttle for ``requests_per_second``; tests
    may pass their own ``client`` (e.g. over ``httpx.MockTransport``), ``throttle``,
    ``policy``, ``sleep`` and ``clock``.
    """
    if settings.token is None or not settings.token.get_secret_value():
        raise BriaFleetError("BRIA_API_TOKEN is not set: the Bria API needs a token")
    protect_secret(settings.token.get_secret_value())
    transport = Transport(
        settings,
        auth=HeaderAuth(AUTH_HEADERS[settings.backend], settings.token),
        throttle=throttle or shared_throttle(settings.requests_per_second),
        client=client,
        policy=policy,
        sleep=sleep,
        clock=clock,
    )
    if settings.backend == "vision-studio":
        return VisionStudioApi(transport)
    return EngineApi(transport)
