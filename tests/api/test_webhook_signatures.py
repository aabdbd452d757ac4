"""Webhook signatures: ours, the simulator's and the vendor SDK's helper agree."""

import httpx
import pytest
from bria_client.toolkit.webhook_verification import verify_webhook_signature
from pydantic import SecretStr

from bria_fleet.api import InvalidWebhook, verified_webhook_id
from bria_fleet.sim.webhooks import sign

TOKEN = "a-token"
BODY = b'{"request_id":"r1","status":"COMPLETED","result":{"image_url":"https://x/a.png"}}'


def _headers(
    signature: str, webhook_id: str = "r1", timestamp: str = "1732000000"
) -> httpx.Headers:
    return httpx.Headers(
        {
            "Bria-Webhook-Id": webhook_id,
            "Bria-Webhook-Timestamp": timestamp,
            "Bria-Webhook-Signature": signature,
        }
    )


def test_a_delivery_signed_with_our_token_is_verified_by_us_and_by_the_sdk() -> None:
    signature = sign(TOKEN, "r1", "1732000000", BODY)
    assert verify_webhook_signature(BODY, "r1", "1732000000", signature, TOKEN)
    assert verified_webhook_id(BODY, _headers(signature), SecretStr(TOKEN)) == "r1"


def test_any_valid_token_among_several_is_enough() -> None:
    signature = f"v1=bogus, {sign(TOKEN, 'r1', '1732000000', BODY)}"
    assert verified_webhook_id(BODY, _headers(signature), SecretStr(TOKEN)) == "r1"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        pytest.param(BODY + b" ", _headers(sign(TOKEN, "r1", "1732000000", BODY)), id="body"),
        pytest.param(BODY, _headers(sign(TOKEN, "r1", "1732000000", BODY), "r2"), id="id"),
        pytest.param(
            BODY, _headers(sign(TOKEN, "r1", "1732000000", BODY), timestamp="1"), id="timestamp"
        ),
        pytest.param(BODY, _headers(sign("other", "r1", "1732000000", BODY)), id="key"),
        pytest.param(BODY, httpx.Headers({"Bria-Webhook-Id": "r1"}), id="unsigned"),
    ],
)
def test_a_changed_or_unsigned_delivery_is_refused(body: bytes, headers: httpx.Headers) -> None:
    with pytest.raises(InvalidWebhook):
        verified_webhook_id(body, headers, SecretStr(TOKEN))
