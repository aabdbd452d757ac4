"""Waiting until a broker answers metadata requests."""

import asyncio
from collections.abc import Callable

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError


async def wait_until_ready(
    host: str, port: int, *, gave_up: Callable[[], bool] = lambda: False
) -> bool:
    """Wait until ``host:port`` answers a metadata request that lists at least one broker.

    Returns True then, or False as soon as ``gave_up()`` is true (for instance because the
    broker's process exited). Bound the wait with ``asyncio.timeout``.
    """
    while not gave_up():
        # A plain connect first: aiokafka logs every refused connection at ERROR level.
        if await _accepts_connections(host, port) and await _answers_metadata(host, port):
            return True
        await asyncio.sleep(0.1)
    return False


async def _accepts_connections(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=1.0)
    except (OSError, TimeoutError):
        return False
    writer.close()
    await writer.wait_closed()
    return True


async def _answers_metadata(host: str, port: int) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=f"{host}:{port}", request_timeout_ms=5000)
    try:
        await admin.start()
        cluster = await admin.describe_cluster()
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        await admin.close()
    return bool(cluster.get("brokers"))
