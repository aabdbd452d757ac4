"""The ASGI layer in front of the API routes: latency, faults, auth, call log and counters."""

import asyncio
import hashlib
import json
import time
from collections.abc import Sequence
from typing import Any

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bria_fleet.sim.direct import DirectRoute
from bria_fleet.sim.errors import SimError
from bria_fleet.sim.faults import FaultDecision
from bria_fleet.sim.recorder import SELECTED_FIELDS, Call
from bria_fleet.sim.responses import error_response
from bria_fleet.sim.simulator import Simulator

OPEN_PATHS = ("/_sim/", "/health")
IDEMPOTENCY_HEADERS = ("idempotency-key", "x-idempotency-key", "x-request-id")
GENERATION_MARKERS = (
    "/text-to-image/",
    "/text-to-vector/",
    "/reimagine/",
    "/restyle_portrait",
    "/generate/tailored",
    "/image/generation/",
)


def is_generation(route: str | None) -> bool:
    """Whether a route template generates images or prompts."""
    return route is not None and any(marker in route for marker in GENERATION_MARKERS)


def _route_template(routes: Sequence[BaseRoute], scope: Scope) -> str | None:
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            path = getattr(route, "path", None)
            return path if isinstance(path, str) else None
    return None


async def _selected_fields(scope: Scope, body: bytes) -> dict[str, Any]:
    headers = Headers(scope=scope)
    content_type = headers.get("content-type", "")
    data: dict[str, Any] = {}
    if content_type.startswith("application/json") or (body[:1] == b"{" and not content_type):
        try:
            loaded = json.loads(body)
        except ValueError:
            return {}
        data = loaded if isinstance(loaded, dict) else {}
    elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):

        async def replay() -> Message:
            return {"type": "http.request", "body": body, "more_body": False}

        form = await Request(dict(scope), replay).form()
        for key, value in form.multi_items():
            data[key] = value if isinstance(value, str) else f"<file {value.filename}>"
        await form.close()
    return {
        key: value
        for key, value in data.items()
        if key in SELECTED_FIELDS and isinstance(value, str | int | float | bool)
    }


class SimMiddleware:
    """Wraps the API routes; ``/_sim/*`` and ``/health`` pass straight through."""

    def __init__(
        self,
        app: ASGIApp,
        sim: Simulator,
        routes: Sequence[BaseRoute],
        direct: Sequence[DirectRoute] = (),
    ) -> None:
        self.app = app
        self.sim = sim
        self.routes = routes
        self.direct = direct
        # Matching every route costs more than the rest of the layer; paths repeat a lot.
        self._templates: dict[tuple[str, str], str | None] = {}

    def _direct_route(self, method: str, path: str) -> tuple[DirectRoute, dict[str, str]] | None:
        for route in self.direct:
            params = route.params(method, path)
            if params is not None:
                return route, params
        return None

    def _route_template(self, scope: Scope) -> str | None:
        lookup = (scope["method"], scope["path"])
        if lookup not in self._templates:
            if len(self._templates) > 10_000:
                self._templates.clear()
            self._templates[lookup] = _route_template(self.routes, scope)
        return self._templates[lookup]

    def _authorized(self, scope: Scope) -> bool:
        headers = Headers(scope=scope)
        token = self.sim.config.token
        return token in (headers.get("api_token"), headers.get("x-api-key"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(OPEN_PATHS):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        method = scope["method"]
        direct = self._direct_route(method, path)
        route = direct[0].template if direct is not None else self._route_template(scope)
        fields = await _selected_fields(scope, body)
        delay = self.sim.faults.latency(path)
        if delay > 0:
            await asyncio.sleep(delay)
        decision = self.sim.faults.before(method, path)
        handler_status: int | None = None
        if decision is not None:
            status = await self._inject(decision, scope, replay, send)
        elif not self._authorized(scope):
            response = error_response(path, 401, "Unauthorized")
            await response(scope, replay, send)
            status = 401
        else:
            after = self.sim.faults.after(method, path)
            swallow = after is not None
            handler_status = await self._forward(scope, replay, send, swallow, direct)
            status = handler_status
            if after is not None:
                decision = after
                status = await self._inject(after, scope, replay, send)
        self._count(scope, route, method, body, handler_status, status)
        call = Call(
            seq=0,
            at=self.sim.clock.now(),
            method=method,
            route=route,
            path=path,
            status=status,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            fields=fields,
            fault=decision.kind if decision is not None else None,
        )
        self.sim.recorder.record(call)

    async def _inject(
        self, decision: FaultDecision, scope: Scope, receive: Receive, send: Send
    ) -> int:
        if decision.delay_seconds > 0:
            await asyncio.sleep(decision.delay_seconds)
        response = error_response(
            scope["path"], decision.status, decision.message, headers=decision.headers
        )
        await response(scope, receive, send)
        return decision.status

    async def _forward(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        swallow: bool,
        direct: tuple[DirectRoute, dict[str, str]] | None,
    ) -> int:
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            if not swallow:
                await send(message)

        if direct is None:
            await self.app(scope, receive, watch)
            return status
        route, params = direct
        try:
            response = route.answer(params)
        except SimError as error:  # as the app's handler of SimError answers it
            path = Request(scope, receive).url.path
            response = error_response(path, error.status, error.message)
        await response(scope, receive, watch)
        return status

    def _count(
        self,
        scope: Scope,
        route: str | None,
        method: str,
        body: bytes,
        handler_status: int | None,
        status: int,
    ) -> None:
        counters = self.sim.counters
        label = f"{method} {route or scope['path']}"
        counters.routes[label] += 1
        counters.statuses[label, status] += 1
        if handler_status is None or not 200 <= handler_status < 300:
            return
        headers = Headers(scope=scope)
        for name in IDEMPOTENCY_HEADERS:
            key = headers.get(name)
            if key:
                counters.idempotency_keys[label, key] += 1
        if is_generation(route):
            digest = hashlib.sha256(body).hexdigest()
            counters.generation_bodies[label, digest] += 1
