"""Creating the fleet's topics (docs/architecture.md §1).

Idempotent, with compaction where the design says.
"""

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from bria_fleet.errors import BriaFleetError
from bria_fleet.kafka_client import kafka_admin
from bria_fleet.settings import KafkaSettings
from bria_fleet_contracts.topics import DOMAINS, topics_for

_NO_ERROR = 0
_VISIBLE_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class TopicSpec:
    """A topic to create, and whether it is compacted."""

    name: str
    compacted: bool = False

    @property
    def configs(self) -> dict[str, str]:
        """The topic-level configuration to create it with."""
        if not self.compacted:
            return {"cleanup.policy": "delete"}
        # Hourly segments, so that compaction (which skips the active segment) drops deleted
        # records within hours, not the default week; tombstones are kept an hour.
        return {
            "cleanup.policy": "compact",
            "segment.ms": str(3600 * 1000),
            "delete.retention.ms": str(3600 * 1000),
        }


@dataclass(frozen=True)
class TopicsReport:
    """What creating topics did: which were created, which were already there."""

    created: tuple[str, ...]
    existing: tuple[str, ...]


def fleet_topics() -> tuple[TopicSpec, ...]:
    """Every topic of every domain, in domain order, compacted (docs/architecture.md §1)."""
    specs: list[TopicSpec] = []
    for domain in DOMAINS:
        topics = topics_for(domain)
        specs.extend(TopicSpec(name, name in topics.compacted) for name in topics.all)
    return tuple(specs)


async def ensure_topics(
    admin: AIOKafkaAdminClient,
    specs: Iterable[TopicSpec],
    *,
    partitions: int,
    replication_factor: int,
) -> TopicsReport:
    """Create the topics that do not exist; existing ones are left as they are.

    Returns once every created topic is visible in the cluster's metadata.
    """
    specs = tuple(specs)
    response = await admin.create_topics(
        [
            NewTopic(spec.name, partitions, replication_factor, topic_configs=spec.configs)
            for spec in specs
        ]
    )
    created: list[str] = []
    existing: list[str] = []
    for topic, code, *rest in response.topic_errors:
        if code == _NO_ERROR:
            created.append(topic)
        elif code == TopicAlreadyExistsError.errno:
            existing.append(topic)
        else:
            detail = rest[0] if rest and rest[0] else for_code(code).__name__
            raise BriaFleetError(f"Kafka refused to create topic {topic}: {detail}.")
    await _wait_until_visible(admin, created)
    order = {spec.name: index for index, spec in enumerate(specs)}
    return TopicsReport(
        created=tuple(sorted(created, key=order.__getitem__)),
        existing=tuple(sorted(existing, key=order.__getitem__)),
    )


async def create_fleet_topics(
    settings: KafkaSettings,
    *,
    partitions: int | None = None,
    replication_factor: int | None = None,
) -> TopicsReport:
    """Create every fleet topic on the cluster ``settings`` reach; see :func:`ensure_topics`.

    Partitions and replication factor default to ``KAFKA_TOPIC_PARTITIONS`` and
    ``KAFKA_TOPIC_REPLICATION_FACTOR``.
    """
    async with kafka_admin(settings) as admin:
        return await ensure_topics(
            admin,
            fleet_topics(),
            partitions=settings.topic_partitions if partitions is None else partitions,
            replication_factor=(
                settings.topic_replication_factor
                if replication_factor is None
                else replication_factor
            ),
        )


async def _wait_until_visible(admin: AIOKafkaAdminClient, topics: list[str]) -> None:
    missing = set(topics)
    try:
        async with asyncio.timeout(_VISIBLE_TIMEOUT_SECONDS):
            while missing:
                missing -= set(await admin.list_topics())
                if missing:
                    await asyncio.sleep(0.1)
    except TimeoutError as error:
        raise BriaFleetError(
            f"Kafka created {', '.join(sorted(missing))} but does not list them after"
            f" {_VISIBLE_TIMEOUT_SECONDS:g} s; check the broker's health and retry."
        ) from error


async def require_topics(settings: KafkaSettings, topics: list[str]) -> dict[str, list[int]]:
    """The partitions of each topic; a clear error naming the fix if any topic is missing."""
    async with kafka_admin(settings) as admin:
        described = await admin.describe_topics(topics)
    partitions = {
        entry["topic"]: sorted(p["partition"] for p in entry["partitions"])
        for entry in described
        if entry.get("error_code", 0) == 0 and entry["partitions"]
    }
    missing = sorted(set(topics) - set(partitions))
    if missing:
        raise BriaFleetError(
            f"the topics {', '.join(missing)} do not exist on {settings.bootstrap_servers};"
            " create them with `bria-fleet topics create`."
        )
    return partitions
