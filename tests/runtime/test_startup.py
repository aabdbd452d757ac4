"""A worker whose broker connection fails while starting fails its startup (and so exits).

faststream reports the ASGI startup complete before it connects the broker; a connection
failing after that left a process that served 503 forever instead of exiting.
"""

import asyncio
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

from bria_fleet.runtime.domain_worker import Worker
from bria_fleet.runtime.worker_settings import WorkerSettings
from bria_fleet.settings import ApiSettings, KafkaSettings
from bria_fleet.workers.domains import logic_for


@pytest.mark.integration
async def test_a_broker_that_cannot_connect_fails_the_asgi_startup(
    fleet_topics: KafkaSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = ApiSettings(base_url="http://127.0.0.1:9", token="startup-test-token")  # type: ignore[arg-type]
    worker = Worker(
        "generation",
        logic_for("generation"),
        kafka=fleet_topics,
        api=api,
        settings=WorkerSettings(http_port=0),
    )

    async def refuse() -> None:
        raise KafkaConnectionError(f"Unable to bootstrap from {fleet_topics.bootstrap_servers}")

    monkeypatch.setattr(worker.broker, "_connect", refuse)
    sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    shutdown = asyncio.Event()
    events = iter([{"type": "lifespan.startup"}])

    async def receive() -> dict[str, Any]:
        event = next(events, None)
        if event is None:
            await shutdown.wait()
            return {"type": "lifespan.shutdown"}
        return event

    async def send(message: dict[str, Any]) -> None:
        await sent.put(message)

    lifespan = asyncio.create_task(worker.app.lifespan({"type": "lifespan"}, receive, send))
    try:
        first = await asyncio.wait_for(sent.get(), timeout=60)
        assert first["type"] == "lifespan.startup.failed"
        assert "Unable to bootstrap" in first["message"]
    finally:
        shutdown.set()
        lifespan.cancel()
        await asyncio.gather(lifespan, return_exceptions=True)
