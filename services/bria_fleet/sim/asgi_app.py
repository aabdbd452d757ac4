"""``create_app``: the simulator as one FastAPI application."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from bria_fleet.sim import (
    admin,
    engine_v1,
    engine_v1_generation,
    engine_v2,
    vision_studio,
    vision_studio_media,
)
from bria_fleet.sim.config import SimConfig
from bria_fleet.sim.errors import SimError
from bria_fleet.sim.middleware import SimMiddleware
from bria_fleet.sim.responses import error_response, family
from bria_fleet.sim.simulator import Simulator


def create_app(config: SimConfig | None = None, simulator: Simulator | None = None) -> FastAPI:
    """The ASGI app serving engine v1, v2 and Vision Studio over one in-memory state."""
    sim = simulator or Simulator(config or SimConfig())

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        sender = asyncio.create_task(sim.webhooks.run(), name="sim-webhooks")
        try:
            yield
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    app = FastAPI(
        title="bria-fleet API simulator",
        docs_url=None,
        redoc_url=None,
        openapi_url="/_sim/openapi.json",
        lifespan=lifespan,
    )
    app.state.sim = sim
    routers = [
        module.build_router(sim)
        for module in (
            admin,
            engine_v1,
            engine_v1_generation,
            engine_v2,
            vision_studio,
            vision_studio_media,
        )
    ]
    for router in routers:
        app.include_router(router)

    @app.exception_handler(SimError)
    async def sim_error(request: Request, error: SimError) -> JSONResponse:
        return error_response(request.url.path, error.status, error.message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        if family(request.url.path).startswith("engine"):
            first = error.errors()[0] if error.errors() else {"msg": "invalid request"}
            return error_response(request.url.path, 400, f"Bad request - {first['msg']}")
        return await request_validation_exception_handler(request, error)

    routes = [route for router in routers for route in router.routes]
    direct = engine_v2.direct_routes(sim)
    app.add_middleware(SimMiddleware, sim=sim, routes=routes, direct=direct)
    return app
