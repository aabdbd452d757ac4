"""The worker's webhook endpoint: a delivery is a hint to poll now, never the answer itself.

Polling stays the source of truth. A signed delivery names an API request id; every watch
following that request is polled at once by the process that owns it (through a nudge
record in the operations topic when that is another replica), on the same durable path as
any poll, so a webhook racing a poll, arriving twice, late or at the wrong replica still
ends its job in exactly one terminal event.
"""

from collections.abc import Callable
from typing import Any

from pydantic import SecretStr
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from bria_fleet import metrics
from bria_fleet.api import InvalidWebhook, verified_webhook_id
from bria_fleet.runtime.operations_table import OperationsTable
from bria_fleet.runtime.watcher import Watcher

MAX_BODY_BYTES = 1 << 20

Running = Callable[[], tuple[OperationsTable, Watcher[Any]] | None]


class WebhookReceiver:
    """ASGI app for ``POST /webhooks/bria``.

    Answers 202 to a valid delivery (known request or not), 401 to a bad signature (and
    does nothing else), 413 to an oversized body, 503 while the worker is starting.
    """

    def __init__(self, token: SecretStr, running: Running) -> None:
        self._token = token
        self._running = running

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self._handle(request)
        await response(scope, receive, send)

    async def _handle(self, request: Request) -> Response:
        if request.method != "POST":
            return Response(status_code=405, headers={"Allow": "POST"})
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return Response("body too large\n", status_code=413)
        try:
            request_id = verified_webhook_id(body, request.headers, self._token)
        except InvalidWebhook as error:
            metrics.WEBHOOKS.labels("rejected").inc()
            return Response(f"{error}\n", status_code=401)
        running = self._running()
        if running is None:
            return Response("starting\n", status_code=503)
        table, watcher = running
        watches = table.watches_of_target(request_id)
        for partition, watch in watches:
            await watcher.nudge(watch.key, partition)
        metrics.WEBHOOKS.labels("nudged" if watches else "unknown").inc()
        return Response(status_code=202)
