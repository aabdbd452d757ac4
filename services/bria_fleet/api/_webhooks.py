"""Verifying the engine's webhook deliveries, as the vendor's SDK documents them.

Headers ``Bria-Webhook-Id`` (the request id), ``Bria-Webhook-Timestamp`` (Unix seconds) and
``Bria-Webhook-Signature`` (comma-separated ``v1=<base64>`` tokens). A token is valid when it
is the HMAC-SHA256 of ``"<id>.<timestamp>.<body>"`` under a key derived from the API token:
``HMAC-SHA256(token, "bria-webhook-signing-v1")``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

from pydantic import SecretStr

from bria_fleet.errors import BriaFleetError

__all__ = ["InvalidWebhook", "verified_webhook_id"]

_SIGNING_SALT = b"bria-webhook-signing-v1"


class InvalidWebhook(BriaFleetError):  # noqa: N818
    """A webhook delivery is unsigned, or signed with another key than our token's."""


def verified_webhook_id(body: bytes, headers: Mapping[str, str], token: SecretStr) -> str:
    """The request id of a delivery whose signature is valid, else :class:`InvalidWebhook`.

    ``headers`` must be case-insensitive (as httpx's and Starlette's are).
    """
    webhook_id = headers.get("bria-webhook-id")
    timestamp = headers.get("bria-webhook-timestamp")
    signature = headers.get("bria-webhook-signature")
    if not webhook_id or not timestamp or not signature:
        raise InvalidWebhook("the delivery lacks the Bria-Webhook-Id/-Timestamp/-Signature headers")
    key = hmac.new(token.get_secret_value().encode(), _SIGNING_SALT, hashlib.sha256).digest()
    message = b".".join((webhook_id.encode(), timestamp.encode(), body))
    expected = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
    for candidate in signature.split(","):
        candidate = candidate.strip()
        if candidate.startswith("v1=") and hmac.compare_digest(candidate[3:], expected):
            return webhook_id
    raise InvalidWebhook(f"the signature of the delivery for {webhook_id!r} does not match")
