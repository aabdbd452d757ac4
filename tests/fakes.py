"""In-memory stand-ins for the runtime's Kafka-backed parts, for tests that need no broker."""

from collections.abc import Mapping

from pydantic import JsonValue


class MemoryFacts:
    """``runtime.outcomes.Facts`` in a dict; share one between two logics to play two replicas."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, JsonValue]] = {}

    async def get(self, name: str) -> Mapping[str, JsonValue] | None:
        """The fact, if written."""
        return self.values.get(name)

    async def put(self, name: str, value: Mapping[str, JsonValue]) -> None:
        """Write the fact."""
        self.values[name] = dict(value)

    async def delete(self, name: str) -> None:
        """Forget the fact."""
        self.values.pop(name, None)
