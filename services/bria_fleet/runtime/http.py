"""The worker's HTTP surface: ``/metrics``, ``/healthz`` and ``/readyz`` (see
docs/architecture.md §7)."""

from collections.abc import Awaitable, Callable, Sequence

from faststream.asgi import AsgiResponse, get
from faststream.asgi.types import ASGIApp, Scope
from prometheus_client import make_asgi_app

from bria_fleet.metrics import REGISTRY

Probe = Callable[[], Awaitable[str | None]]


def _probe_route(probe: Probe) -> ASGIApp:
    @get(include_in_schema=False)
    async def route(scope: Scope) -> AsgiResponse:
        problem = await probe()
        if problem is None:
            return AsgiResponse(b"ok\n", status_code=200)
        return AsgiResponse(f"{problem}\n".encode(), status_code=503)

    return route


def http_routes(liveness: Probe, readiness: Probe) -> Sequence[tuple[str, ASGIApp]]:
    """Routes for ``AsgiFastStream``: each probe returns ``None`` when fine, else the problem."""
    return (
        ("/metrics", make_asgi_app(REGISTRY)),
        ("/healthz", _probe_route(liveness)),
        ("/readyz", _probe_route(readiness)),
    )
