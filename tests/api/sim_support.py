"""Helpers for the client's tests over real HTTP against the API simulator."""

from __future__ import annotations

import asyncio
import io
import struct
import zipfile
import zlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr

from bria_fleet.api import BriaApi, OperationStatus, RetryPolicy, Throttle, create_api
from bria_fleet.settings import ApiSettings

T = TypeVar("T")

# The simulator's seeded objects.
PROJECT_ID = "100"
COMPLETED_DATASET_ID = "200"
DRAFT_DATASET_ID = "201"
LIGHT_MODEL_ID = "300"
MAX_MODEL_ID = "301"
FIBO_MODEL_ID = "302"


def png(width: int = 256, height: int = 256, rgb: tuple[int, int, int] = (200, 40, 90)) -> bytes:
    """A solid-colour RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def zip_of(files: dict[str, bytes]) -> bytes:
    """A zip archive of ``files``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def sim_api(
    base_url: str,
    token: str,
    backend: str,
    *,
    attempts: int = 4,
    budget: float = 20.0,
) -> BriaApi:
    """A client of the simulator with quick retries and its own throttle."""
    settings = ApiSettings.model_validate(
        {"BRIA_BACKEND": backend, "base_url": base_url, "token": SecretStr(token)}
    )
    policy = RetryPolicy(
        attempts=attempts, initial_seconds=0.01, max_seconds=0.05, budget_seconds=budget
    )
    return create_api(settings, throttle=Throttle(), policy=policy)


class SimAdmin:
    """The simulator's admin routes (``/_sim/...``)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def _send(self, method: str, path: str, body: Any = None) -> Any:
        response = httpx.request(method, f"{self.base_url}/_sim{path}", json=body, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else None

    def faults(self, **faults: Any) -> None:
        """Replace the injected faults."""
        self._send("PUT", "/faults", faults)

    def timing(self, **timing: float) -> None:
        """Change how long simulated work takes."""
        self._send("PUT", "/timing", timing)

    def calls(self) -> Any:
        """The calls the simulator recorded."""
        return self._send("GET", "/calls")

    def reset(self) -> None:
        """Back to the seeded state with the configured faults and timing."""
        self._send("POST", "/reset", {})


async def until_terminal(
    read: Callable[[], Awaitable[OperationStatus[T]]], within: float = 20.0
) -> tuple[OperationStatus[T], list[OperationStatus[T]]]:
    """Read a status until it is terminal; return it with every status seen."""
    seen: list[OperationStatus[T]] = []
    async with asyncio.timeout(within):
        while not (seen and seen[-1].is_terminal):
            if seen:
                await asyncio.sleep(0.05)
            seen.append(await read())
    return seen[-1], seen
