"""Every contract example survives a trip through a real Kafka broker, byte for byte."""

import json
import time
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bria_fleet.kafka_client import aiokafka_options
from bria_fleet.runtime.outbox import Outbox
from bria_fleet.runtime.records import OutboundMessage
from bria_fleet.settings import KafkaSettings
from bria_fleet_contracts import DOMAINS, Domain, parse_request
from tests.fixtures.kafka import NewKafkaTopic

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "contracts" / "examples"


async def test_every_example_goes_through_the_broker_and_parses_back_equal(
    kafka_settings: KafkaSettings, new_kafka_topic: NewKafkaTopic
) -> None:
    topic = await new_kafka_topic("examples", partitions=3)
    examples: dict[Path, tuple[Domain, dict[str, Any]]] = {
        path: (domain, json.loads(path.read_text()))
        for domain in DOMAINS
        for path in sorted((EXAMPLES / domain).glob("*.json"))
    }
    examples[EXAMPLES / "pipeline.json"] = (
        "ingest",
        json.loads((EXAMPLES / "pipeline.json").read_text()),
    )
    assert {domain for domain, _ in examples.values()} == set(DOMAINS)
    producer = AIOKafkaProducer(**aiokafka_options(kafka_settings), acks="all")
    await producer.start()
    try:
        await Outbox(producer).publish(
            [
                OutboundMessage(topic=topic, key=body["job_id"], value=body)
                for _, body in examples.values()
            ]
        )
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic, **aiokafka_options(kafka_settings), auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    received: dict[str, bytes] = {}
    deadline = time.monotonic() + 60
    try:
        while len(received) < len(examples):
            assert time.monotonic() < deadline, f"only {len(received)} examples came back"
            batches = await consumer.getmany(timeout_ms=1000)
            for messages in batches.values():
                for message in messages:
                    received[message.key.decode()] = message.value
    finally:
        await consumer.stop()

    for domain, body in examples.values():
        sent = parse_request(domain, body)
        assert parse_request(domain, received[body["job_id"]]) == sent
