"""Consumer lag: highwater minus position per owned partition, series dropped when revoked."""

from aiokafka import TopicPartition
from aiokafka.errors import IllegalStateError

from bria_fleet import metrics
from bria_fleet.runtime.lag import LagSampler


class FakeConsumer:
    """The three calls the sampler makes, over fixed offsets."""

    def __init__(self, offsets: dict[TopicPartition, tuple[int | None, int]]) -> None:
        self.offsets = offsets

    def assignment(self) -> set[TopicPartition]:
        return set(self.offsets)

    def highwater(self, tp: TopicPartition) -> int | None:
        return self.offsets[tp][0]

    async def position(self, tp: TopicPartition) -> int:
        if tp not in self.offsets:
            raise IllegalStateError("not assigned")
        return self.offsets[tp][1]


def lag(topic: str, partition: int) -> float | None:
    return metrics.REGISTRY.get_sample_value(
        "bria_fleet_consumer_lag",
        {"domain": "lagtest", "topic": topic, "partition": str(partition)},
    )


async def test_lag_is_highwater_minus_position_per_owned_partition() -> None:
    a0, a1, r0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("a.retry", 0)
    consumer = FakeConsumer({a0: (120, 100), a1: (7, 7), r0: (None, 0)})
    sampler = LagSampler("lagtest", lambda: consumer)  # type: ignore[arg-type,return-value]

    await sampler.sample()

    assert lag("a", 0) == 20
    assert lag("a", 1) == 0
    assert lag("a.retry", 0) is None  # not fetched yet: no figure rather than a wrong one


async def test_a_revoked_partition_loses_its_series() -> None:
    a0, a1 = TopicPartition("b", 0), TopicPartition("b", 1)
    consumer = FakeConsumer({a0: (5, 1), a1: (9, 2)})
    sampler = LagSampler("lagtest", lambda: consumer)  # type: ignore[arg-type,return-value]
    await sampler.sample()
    assert lag("b", 1) == 7

    del consumer.offsets[a1]
    await sampler.sample()

    assert lag("b", 0) == 4
    assert lag("b", 1) is None


async def test_no_consumer_yet_means_no_series_and_no_error() -> None:
    sampler = LagSampler("lagtest", lambda: None)
    await sampler.sample()
    sampler.start()
    await sampler.stop()
    assert lag("c", 0) is None
