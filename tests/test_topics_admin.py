"""Creating the fleet's topics: all twenty, compacted per docs/architecture.md §1."""

from collections.abc import AsyncIterator

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from typer.testing import CliRunner

import bria_fleet.cli.topics  # noqa: F401  (registers the command group)
from bria_fleet.cli import app
from bria_fleet.kafka_client import kafka_admin
from bria_fleet.settings import KafkaSettings
from bria_fleet.topics_admin import TopicSpec, create_fleet_topics, ensure_topics, fleet_topics
from bria_fleet_contracts.topics import DOMAINS, topics_for
from tests.fixtures.kafka import UniqueTopicName

ALL_TOPICS = {name for domain in DOMAINS for name in topics_for(domain).all}
OPERATIONS_TOPICS = {topics_for(domain).operations for domain in DOMAINS}


@pytest.fixture
async def admin(kafka_settings: KafkaSettings) -> AsyncIterator[AIOKafkaAdminClient]:
    async with kafka_admin(kafka_settings) as client:
        yield client


async def _cleanup_policies(admin: AIOKafkaAdminClient, topics: set[str]) -> dict[str, str]:
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, topic, {"cleanup.policy": None})
        for topic in sorted(topics)
    ]
    policies: dict[str, str] = {}
    for response in await admin.describe_configs(resources):
        for resource in response.to_object()["resources"]:
            for entry in resource["config_entries"]:
                policies[resource["resource_name"]] = entry["config_value"]
    return policies


def test_fleet_topics_are_the_twenty_of_design_with_operations_compacted() -> None:
    specs = fleet_topics()

    assert {spec.name for spec in specs} == ALL_TOPICS
    assert len(specs) == 20
    assert {spec.name for spec in specs if spec.compacted} == {
        "bria.ingest.operations",
        "bria.caption.operations",
        "bria.training.operations",
        "bria.generation.operations",
    }


@pytest.mark.integration
async def test_ensure_topics_reports_created_then_already_there(
    admin: AIOKafkaAdminClient, unique_topic_name: UniqueTopicName
) -> None:
    specs = [TopicSpec(unique_topic_name("plain")), TopicSpec(unique_topic_name("ops"), True)]
    names = tuple(spec.name for spec in specs)

    first = await ensure_topics(admin, specs, partitions=2, replication_factor=1)
    second = await ensure_topics(admin, specs, partitions=2, replication_factor=1)

    assert (first.created, first.existing) == (names, ())
    assert (second.created, second.existing) == ((), names)
    assert await _cleanup_policies(admin, set(names)) == {names[0]: "delete", names[1]: "compact"}
    await admin.delete_topics(list(names))


@pytest.mark.integration
async def test_create_fleet_topics_leaves_all_twenty_with_compaction_on_operations(
    kafka_settings: KafkaSettings, admin: AIOKafkaAdminClient
) -> None:
    report = await create_fleet_topics(kafka_settings)

    assert set(report.created) | set(report.existing) == ALL_TOPICS
    assert set(await admin.list_topics()) >= ALL_TOPICS
    policies = await _cleanup_policies(admin, ALL_TOPICS)
    assert {topic for topic, policy in policies.items() if policy == "compact"} == (
        OPERATIONS_TOPICS
    )
    assert {topic for topic, policy in policies.items() if policy == "delete"} == (
        ALL_TOPICS - OPERATIONS_TOPICS
    )


@pytest.mark.integration
async def test_second_create_fleet_topics_is_a_no_op(kafka_settings: KafkaSettings) -> None:
    await create_fleet_topics(kafka_settings)

    again = await create_fleet_topics(kafka_settings)

    assert again.created == ()
    assert set(again.existing) == ALL_TOPICS


@pytest.mark.integration
def test_topics_create_command_reports_every_topic(kafka_bootstrap: str) -> None:
    result = CliRunner().invoke(app, ["topics", "create", "--bootstrap", kafka_bootstrap])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert {line.split()[1] for line in lines[:-1]} == ALL_TOPICS
    assert "bria.training.operations  (compact)" in result.stdout
    assert lines[-1].endswith(f"already there on {kafka_bootstrap}.")
