"""Signed webhook deliveries of terminal v2 statuses: at least once, sometimes twice or late.

A v2 request that names a ``webhook_url`` gets, once its job is ``COMPLETED`` or ``ERROR``,
a POST of the job's status body to that URL, signed as the vendor's SDK verifies it
(``bria_client.toolkit.webhook_verification``):

- ``Bria-Webhook-Id``: the request id; ``Bria-Webhook-Timestamp``: Unix seconds;
- ``Bria-Webhook-Signature``: ``v1=<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>``,
  the key being ``HMAC-SHA256(api token, "bria-webhook-signing-v1")``.

A delivery the receiver does not accept (no 2xx, no connection) is retried with doubling
waits, up to a number of attempts. Faults (``FaultConfig.webhooks``) lose deliveries, send
duplicates, delay them and spoil signatures.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from bria_fleet.sim.async_jobs import Job
from bria_fleet.sim.clock import Clock
from bria_fleet.sim.config import WebhookFault

SIGNING_SALT = b"bria-webhook-signing-v1"
TICK_SECONDS = 0.02
REQUEST_TIMEOUT_SECONDS = 5.0

logger = logging.getLogger("bria_fleet.sim.webhooks")


def sign(token: str, webhook_id: str, timestamp: str, body: bytes) -> str:
    """The ``Bria-Webhook-Signature`` value for ``body``."""
    key = hmac.new(token.encode(), SIGNING_SALT, hashlib.sha256).digest()
    message = f"{webhook_id}.{timestamp}.{body.decode()}".encode()
    return "v1=" + base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


@dataclass
class _Pending:
    job: Job
    url: str
    attempts: int = 0
    not_before: float = 0.0  # time.monotonic(): retries and delays wait in real time
    copies: int = 1


@dataclass(frozen=True)
class Attempt:
    """One delivery attempt, as the admin routes report it."""

    request_id: str
    url: str
    attempt: int
    status: int | None
    error: str | None
    at: float
    signed: bool

    def view(self) -> dict[str, Any]:
        """This attempt as JSON."""
        return {
            "request_id": self.request_id,
            "url": self.url,
            "attempt": self.attempt,
            "status": self.status,
            "error": self.error,
            "at": self.at,
            "signed": self.signed,
        }


@dataclass
class WebhookSender:
    """Delivers webhooks for finished jobs; ``run`` is its loop (started with the app)."""

    clock: Clock
    token: str
    faults: WebhookFault
    rng: random.Random
    max_attempts: int = 6
    first_retry_seconds: float = 0.5
    pending: list[_Pending] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)

    def schedule(self, job: Job, url: str) -> None:
        """Deliver ``job``'s terminal status to ``url`` once it has one."""
        if self.rng.random() < self.faults.drop_rate:
            self.attempts.append(Attempt(job.id, url, 0, None, "dropped", self.clock.now(), True))
            return
        copies = 2 if self.rng.random() < self.faults.duplicate_rate else 1
        delay = self.faults.delay_seconds + self.rng.uniform(0, self.faults.delay_jitter_seconds)
        self.pending.append(_Pending(job, url, not_before=time.monotonic() + delay, copies=copies))

    def clear(self) -> None:
        """Forget pending deliveries and the attempt log."""
        self.pending.clear()
        self.attempts.clear()

    async def run(self) -> None:
        """Send due deliveries until cancelled."""
        async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_SECONDS) as client:
            while True:
                await asyncio.sleep(TICK_SECONDS)
                due = [p for p in self.pending if self._due(p)]
                for delivery in due:
                    self.pending.remove(delivery)
                if due:
                    await asyncio.gather(*(self._deliver(client, p) for p in due))

    def _due(self, delivery: _Pending) -> bool:
        finished = delivery.job.status_at(self.clock.now()) != "IN_PROGRESS"
        return finished and time.monotonic() >= delivery.not_before

    async def _deliver(self, client: httpx.AsyncClient, delivery: _Pending) -> None:
        job = delivery.job
        body = json.dumps(job.view(self.clock.now()), separators=(",", ":")).encode()
        timestamp = str(int(self.clock.now()))
        signed = self.rng.random() >= self.faults.bad_signature_rate
        signature = sign(self.token if signed else "not-the-token", job.id, timestamp, body)
        headers = {
            "Content-Type": "application/json",
            "Bria-Webhook-Id": job.id,
            "Bria-Webhook-Timestamp": timestamp,
            "Bria-Webhook-Signature": signature,
        }
        delivery.attempts += 1
        status: int | None = None
        error: str | None = None
        try:
            for _ in range(delivery.copies):
                response = await client.post(delivery.url, content=body, headers=headers)
                status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        self.attempts.append(
            Attempt(
                job.id, delivery.url, delivery.attempts, status, error, self.clock.now(), signed
            )
        )
        accepted = status is not None and 200 <= status < 300
        if not accepted and delivery.attempts < self.max_attempts:
            wait = self.first_retry_seconds * 2 ** (delivery.attempts - 1)
            delivery.not_before = time.monotonic() + wait
            delivery.copies = 1
            self.pending.append(delivery)
        elif not accepted:
            logger.info("webhook for %s given up after %d attempts", job.id, delivery.attempts)
