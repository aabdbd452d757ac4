"""The simulator's webhooks: signed as the vendor's SDK verifies, retried, duplicated, lost."""

import json
import time
from typing import Any

import httpx
from bria_client.toolkit.webhook_verification import verify_webhook_signature

from bria_fleet.sim import SimServer
from tests.sim.helpers import admin, engine, trained_fibo_model_id, wait_for
from tests.sim.webhook_receiver import Received, WebhookReceiver


def _submit(client: httpx.Client, url: str) -> str:
    accepted = client.post(
        "/v2/image/generate/tailored",
        json={
            "tailored_model_id": trained_fibo_model_id(client),
            "prompt": "a fox",
            "webhook_url": url,
        },
    )
    assert accepted.status_code == 202
    request_id: str = accepted.json()["request_id"]
    return request_id


def _verified(sim: SimServer, delivery: Received) -> bool:
    return verify_webhook_signature(
        delivery.body,
        delivery.headers["Bria-Webhook-Id"],
        delivery.headers["Bria-Webhook-Timestamp"],
        delivery.headers["Bria-Webhook-Signature"],
        sim.token,
    )


def _wait_deliveries(receiver: WebhookReceiver, count: int, timeout: float = 10) -> None:
    wait_for(lambda: {"n": len(receiver.received)}, lambda seen: seen["n"] >= count, timeout)


def _attempts(sim: SimServer) -> list[dict[str, Any]]:
    with admin(sim) as control:
        attempts: list[dict[str, Any]] = control.get("/webhooks").json()["attempts"]
    return attempts


def test_a_finished_job_is_delivered_signed_as_the_sdk_verifies(sim: SimServer) -> None:
    with WebhookReceiver() as receiver, engine(sim) as client:
        request_id = _submit(client, receiver.url)
        _wait_deliveries(receiver, 1)
        status = client.get(f"/v2/status/{request_id}").json()
    (delivery,) = receiver.received
    assert delivery.headers["Bria-Webhook-Id"] == request_id
    assert _verified(sim, delivery)
    body = json.loads(delivery.body)
    assert body == status
    assert body["status"] == "COMPLETED"
    assert body["result"]["image_url"]


def test_nothing_is_delivered_before_the_job_finishes(sim: SimServer) -> None:
    with admin(sim) as control:
        control.put("/timing", json={"generation_seconds": 60})
    with WebhookReceiver() as receiver, engine(sim) as client:
        request_id = _submit(client, receiver.url)
        time.sleep(0.5)
        assert receiver.received == []
        with admin(sim) as control:
            control.post(f"/jobs/{request_id}/finish", json={"status": "ERROR"})
        _wait_deliveries(receiver, 1)
    body = json.loads(receiver.received[0].body)
    assert body["status"] == "ERROR"
    assert set(body["error"]) == {"code", "message", "details"}


def test_a_delivery_the_receiver_refuses_is_retried_until_accepted(sim: SimServer) -> None:
    with WebhookReceiver(statuses=[500, 503, 200]) as receiver, engine(sim) as client:
        _submit(client, receiver.url)
        _wait_deliveries(receiver, 3)
        time.sleep(1.0)  # no fourth attempt once one was accepted
    assert len(receiver.received) == 3
    assert [a["status"] for a in _attempts(sim)] == [500, 503, 200]


def test_faults_duplicate_delay_drop_and_spoil_deliveries(sim: SimServer) -> None:
    with admin(sim) as control:
        control.put("/faults", json={"webhooks": {"duplicate_rate": 1.0, "delay_seconds": 0.5}})
    with WebhookReceiver() as receiver, engine(sim) as client:
        started = time.monotonic()
        _submit(client, receiver.url)
        _wait_deliveries(receiver, 2)
        late = time.monotonic() - started
        assert late >= 0.5
        assert receiver.received[0].body == receiver.received[1].body

        with admin(sim) as control:
            control.put("/faults", json={"webhooks": {"drop_rate": 1.0}})
        _submit(client, receiver.url)
        time.sleep(1.0)
        assert len(receiver.received) == 2

        with admin(sim) as control:
            control.put("/faults", json={"webhooks": {"bad_signature_rate": 1.0}})
        _submit(client, receiver.url)
        _wait_deliveries(receiver, 3)
    assert not _verified(sim, receiver.received[2])
    assert [a["error"] for a in _attempts(sim) if a["attempt"] == 0] == ["dropped"]
