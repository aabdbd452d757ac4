"""Small helpers shared by the worker tests: examples, simulator knobs, call counting."""

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from bria_fleet.sim import SimServer

EXAMPLES = Path(__file__).resolve().parents[2] / "contracts" / "examples"


def example(domain: str, op: str, job_id: str, **changes: Any) -> dict[str, Any]:
    """The contract example of ``op`` with a new job id and some fields changed."""
    request: dict[str, Any] = json.loads((EXAMPLES / domain / f"{op}.json").read_text())
    request.update(job_id=job_id, **changes)
    return request


def set_faults(sim: SimServer, **faults: Any) -> None:
    """Replace the simulator's fault injection."""
    httpx.put(f"{sim.base_url}/_sim/faults", json=faults).raise_for_status()


def set_timing(sim: SimServer, **timing: float) -> None:
    """Change the simulator's durations (training, async generation, ...)."""
    httpx.put(f"{sim.base_url}/_sim/timing", json=timing).raise_for_status()


def calls(sim: SimServer, route_fragment: str = "") -> list[dict[str, Any]]:
    """The simulator's call log, optionally only routes containing ``route_fragment``."""
    log: list[dict[str, Any]] = httpx.get(f"{sim.base_url}/_sim/calls").json()
    return [call for call in log if route_fragment in (call["route"] or call["path"])]


def prompt_counts(sim: SimServer, route_fragment: str, status: int | None = None) -> Counter[str]:
    """How many calls to matching routes carried each prompt (answered ``status`` if given)."""
    return Counter(
        call["fields"].get("prompt", "")
        for call in calls(sim, route_fragment)
        if status is None or call["status"] == status
    )


def most_concurrent(sim_calls: list[dict[str, Any]]) -> int:
    """The largest number of calls the simulator was serving at one moment."""
    edges: list[tuple[float, int]] = []
    for call in sim_calls:
        end = float(call["at"])
        edges += [(end - call["duration_ms"] / 1000.0, 1), (end, -1)]
    current = peak = 0
    for _, step in sorted(edges):
        current += step
        peak = max(peak, current)
    return peak


async def http_get(url: str) -> httpx.Response:
    """GET ``url`` without blocking the event loop."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        return await client.get(url)
