import asyncio

from bria_fleet.runtime.keyed_order import KeyedSerializer


async def test_same_key_runs_one_at_a_time_in_arrival_order() -> None:
    serializer = KeyedSerializer()
    order: list[int] = []
    inside = 0
    most_inside = 0

    async def job(number: int) -> None:
        nonlocal inside, most_inside
        async with serializer.hold("key"):
            inside += 1
            most_inside = max(most_inside, inside)
            await asyncio.sleep(0.001 * (5 - number))  # later jobs are quicker
            order.append(number)
            inside -= 1

    await asyncio.gather(*(job(n) for n in range(5)))

    assert order == [0, 1, 2, 3, 4]
    assert most_inside == 1


async def test_different_keys_run_concurrently() -> None:
    serializer = KeyedSerializer()
    both_inside = asyncio.Event()
    entered: set[str] = set()

    async def job(key: str) -> None:
        async with serializer.hold(key):
            entered.add(key)
            if len(entered) == 2:
                both_inside.set()
            await asyncio.wait_for(both_inside.wait(), 1.0)

    await asyncio.gather(job("a"), job("b"))

    assert entered == {"a", "b"}


async def test_keys_are_forgotten_when_idle() -> None:
    serializer = KeyedSerializer()

    async with serializer.hold("a"):
        assert len(serializer) == 1

    assert len(serializer) == 0


async def test_a_failing_holder_releases_the_key() -> None:
    serializer = KeyedSerializer()

    async def failing() -> None:
        async with serializer.hold("a"):
            raise RuntimeError("boom")

    results = await asyncio.gather(failing(), return_exceptions=True)
    async with asyncio.timeout(1.0), serializer.hold("a"):
        pass

    assert isinstance(results[0], RuntimeError)
    assert len(serializer) == 0


async def test_turns_are_granted_in_reservation_order_not_arrival_order() -> None:
    serializer = KeyedSerializer()
    turns = [serializer.reserve("key") for _ in range(3)]
    order: list[int] = []

    async def job(number: int, arrive_after: float) -> None:
        await asyncio.sleep(arrive_after)
        async with turns[number]:
            order.append(number)

    # The last reserved arrives first, the first reserved arrives last.
    await asyncio.gather(job(0, 0.03), job(1, 0.02), job(2, 0.0))

    assert order == [0, 1, 2]


async def test_a_turn_released_unentered_passes_the_key_on() -> None:
    serializer = KeyedSerializer()
    skipped = serializer.reserve("key")
    next_turn = serializer.reserve("key")

    skipped.release()
    skipped.release()
    async with asyncio.timeout(1.0), next_turn:
        pass

    assert len(serializer) == 0


def test_turns_are_reserved_outside_the_concurrency_middleware() -> None:
    """Per-key order holds only if turns are reserved before records become tasks."""
    from functools import partial

    from faststream_concurrent_aiokafka import KafkaConcurrentProcessingMiddleware

    from bria_fleet.runtime.domain_worker import Worker
    from bria_fleet.runtime.keyed_order import _ReserveTurns
    from bria_fleet.workers.domains import logic_for

    worker = Worker("generation", logic_for("generation"))
    middlewares = list(worker.broker.middlewares)

    def is_reservation(middleware: object) -> bool:
        return isinstance(middleware, partial) and middleware.func is _ReserveTurns

    reservation = next(i for i, m in enumerate(middlewares) if is_reservation(m))
    concurrency = middlewares.index(KafkaConcurrentProcessingMiddleware)
    assert reservation < concurrency, "turns must be reserved before the concurrency middleware"


async def test_record_turns_keep_partition_order_per_key_whatever_order_tasks_start() -> None:
    from types import SimpleNamespace
    from typing import Any, cast

    from bria_fleet.runtime.keyed_order import RecordTurns

    turns = RecordTurns()
    records = [
        cast(Any, SimpleNamespace(topic="t", partition=0, offset=n, key=b"k")) for n in range(4)
    ]
    for record in records:  # dispatch, in offset order
        turns.reserve(record)
    done: list[int] = []

    async def handle(record: Any) -> None:
        async with turns.take(record):
            done.append(record.offset)

    await asyncio.gather(*(handle(r) for r in reversed(records)))  # tasks start out of order
    assert done == [0, 1, 2, 3]
