"""A real broker from bria_fleet.localkafka: start, reuse, status, stop, traffic, compaction."""

import asyncio
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.structs import ConsumerRecord, TopicPartition

from bria_fleet.localkafka import LocalKafka
from bria_fleet.localkafka._process import command_line, is_alive
from tests.fixtures.kafka import NewKafkaTopic, UniqueTopicName, free_port

pytestmark = pytest.mark.integration


async def _brokers(bootstrap: str) -> list[dict[str, object]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
    finally:
        await admin.close()
    brokers: list[dict[str, object]] = cluster["brokers"]
    return brokers


async def _read_all(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of partition 0 of ``topic``, up to its end offset now."""
    partition = TopicPartition(topic, 0)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        end: int | None = None
        async with asyncio.timeout(30):
            while end is None or await consumer.position(partition) < end:
                records.extend((await consumer.getmany(timeout_ms=200)).get(partition, []))
                if end is None and partition in consumer.assignment():
                    end = (await consumer.end_offsets([partition]))[partition]
    finally:
        await consumer.stop()
    return records


async def test_started_broker_answers_metadata_on_its_port(local_kafka: LocalKafka) -> None:
    brokers = await _brokers(local_kafka.bootstrap)

    assert [(b["host"], b["port"]) for b in brokers] == [("127.0.0.1", local_kafka.port)]


def test_second_start_reuses_the_running_broker(local_kafka: LocalKafka) -> None:
    before = local_kafka.status()

    again = LocalKafka(local_kafka.data_dir, local_kafka.port).start(timeout=5)

    assert again.running
    assert again.pid == before.pid
    assert again.bootstrap == local_kafka.bootstrap


def test_status_reports_running_bootstrap_and_log_file(local_kafka: LocalKafka) -> None:
    status = LocalKafka(local_kafka.data_dir).status()

    assert status.running
    assert status.bootstrap == f"127.0.0.1:{local_kafka.port}"
    assert status.log_file == local_kafka.data_dir / "kafka.log"
    assert "Kafka Server started" in status.log_file.read_text()


async def test_produce_consume_round_trip(
    local_kafka: LocalKafka, unique_topic_name: UniqueTopicName
) -> None:
    topic = unique_topic_name()  # auto-created by the broker on first use
    sent = [(f"key-{i}".encode(), f"value-{i}".encode()) for i in range(10)]
    producer = AIOKafkaProducer(bootstrap_servers=local_kafka.bootstrap, acks="all")
    await producer.start()
    try:
        for key, value in sent:
            await producer.send_and_wait(topic, value, key=key, partition=0)
    finally:
        await producer.stop()

    records = await _read_all(local_kafka.bootstrap, topic)

    assert [(r.key, r.value) for r in records] == sent


async def test_compaction_keeps_only_the_latest_value_per_key(
    local_kafka: LocalKafka, new_kafka_topic: NewKafkaTopic
) -> None:
    topic = await new_kafka_topic("compacted", compacted=True)
    admin = AIOKafkaAdminClient(bootstrap_servers=local_kafka.bootstrap)
    await admin.start()
    try:
        # AlterConfigs replaces the topic's whole configuration, so restate the policy.
        configs = {"cleanup.policy": "compact", "segment.ms": "100"}
        configs["min.cleanable.dirty.ratio"] = "0.01"
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, topic, configs)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=local_kafka.bootstrap, acks="all")
    await producer.start()
    try:
        for version in range(5):
            await producer.send_and_wait(topic, f"v{version}".encode(), key=b"op")
            await asyncio.sleep(0.2)  # each value in a segment of its own
        deadline = time.monotonic() + 60
        while True:
            # A later record rolls the active segment so the cleaner may compact the rest.
            await producer.send_and_wait(topic, b"tick", key=b"tick")
            values = [r.value for r in await _read_all(local_kafka.bootstrap, topic)]
            if values.count(b"v4") == 1 and not {b"v0", b"v1", b"v2", b"v3"} & set(values):
                break
            assert time.monotonic() < deadline, f"not compacted within 60 s: {values}"
            await asyncio.sleep(1)
    finally:
        await producer.stop()


async def test_stop_ends_its_own_broker_and_no_other(
    local_kafka: LocalKafka, tmp_path: Path
) -> None:
    own = LocalKafka(tmp_path / "own", port=free_port())
    pid = own.start(timeout=120).pid
    try:
        assert own.stop() is True

        assert not own.status().running
        assert not own.pid_file.exists()
        assert pid is not None
        # Gone, or (pid reused, or a zombie nobody reaped yet) no longer this broker.
        command = command_line(pid) if is_alive(pid) else None
        assert command is None or str(own.config_file) not in command
        assert local_kafka.status().running
        assert await _brokers(local_kafka.bootstrap)
    finally:
        own.stop()
