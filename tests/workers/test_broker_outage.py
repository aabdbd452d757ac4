"""A worker whose broker goes away: unready while it is gone, ready and working once it is back.

The test needs a broker it may stop, so it starts one of its own (a local KRaft broker).
"""

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bria_fleet.localkafka import LocalKafka
from bria_fleet.settings import KafkaSettings
from bria_fleet.sim import SimServer
from bria_fleet.topics_admin import create_fleet_topics
from bria_fleet_contracts import topics_for
from tests.fixtures.fleet import FleetEvents, TopicTail, WorkerProcess
from tests.fixtures.kafka import BROKER_START_TIMEOUT_SECONDS, free_port

pytestmark = pytest.mark.integration

TOPICS = topics_for("generation")


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[LocalKafka]:
    """A broker of this test's own, which it may stop and start again."""
    broker = LocalKafka(tmp_path / "kafka", port=free_port(), detach=False)
    broker.start(timeout=BROKER_START_TIMEOUT_SECONDS)
    yield broker
    broker.stop()


@pytest.fixture
async def worker_on_own_broker(
    own_broker: LocalKafka, sim: SimServer, tmp_path: Path
) -> AsyncIterator[WorkerProcess]:
    await create_fleet_topics(KafkaSettings(bootstrap_servers=own_broker.bootstrap))
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": own_broker.bootstrap,
        "BRIA_API_BASE_URL": sim.base_url,
        "BRIA_API_TOKEN": sim.token,
        "WORKER_GRACEFUL_TIMEOUT": "5",
    }
    worker = WorkerProcess("generation", env, tmp_path / "worker.log").start()
    yield worker
    worker.stop()


async def readiness(worker: WorkerProcess) -> tuple[int, str]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        answer = await client.get(f"{worker.url}/readyz")
    return answer.status_code, answer.text


async def wait_for_readiness(worker: WorkerProcess, status: int, within: float) -> str:
    """Poll ``/readyz`` until it answers ``status``; the body it answered with."""
    deadline = time.monotonic() + within
    seen: tuple[int, str] | None = None
    while time.monotonic() < deadline:
        seen = await readiness(worker)
        if seen[0] == status:
            return seen[1]
        await asyncio.sleep(0.5)
    pytest.fail(f"/readyz never answered {status} (last {seen}); log:\n{worker.log_tail()}")


async def test_readyz_follows_the_broker_and_jobs_complete_once_it_returns(
    own_broker: LocalKafka, worker_on_own_broker: WorkerProcess
) -> None:
    worker = worker_on_own_broker
    await worker.wait_ready()

    own_broker.stop()
    reason = await wait_for_readiness(worker, 503, within=60)
    assert "broker" in reason

    own_broker.start(timeout=BROKER_START_TIMEOUT_SECONDS)
    await wait_for_readiness(worker, 200, within=120)

    settings = KafkaSettings(bootstrap_servers=own_broker.bootstrap)
    tail = TopicTail(AIOKafkaConsumer(bootstrap_servers=own_broker.bootstrap))
    await tail.start(settings, [TOPICS.events])
    producer = AIOKafkaProducer(bootstrap_servers=own_broker.bootstrap, acks="all")
    await producer.start()
    try:
        request = {
            "job_id": "after-outage",
            "op": "text_to_image",
            "model_id": "300",
            "prompt": "a cat after the outage",
        }
        await producer.send_and_wait(
            TOPICS.requests, json.dumps(request).encode(), key=b"after-outage"
        )
        events = FleetEvents("generation", tail)
        await events.wait_terminal(["after-outage"], within=120)
        assert [e["type"] for e in events.terminal("after-outage")] == ["generation.completed"]
    finally:
        await producer.stop()
        await tail.stop()
