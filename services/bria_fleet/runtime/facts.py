"""Facts kept in the operations topic: read from the table, written through the journal."""

from collections.abc import Mapping

from pydantic import JsonValue

from bria_fleet.runtime.journal import Journal
from bria_fleet.runtime.operations_table import OperationsTable


class TableFacts:
    """``runtime.outcomes.Facts`` over the operations table every replica reads."""

    def __init__(self, table: OperationsTable, journal: Journal) -> None:
        self._table = table
        self._journal = journal

    async def get(self, name: str) -> Mapping[str, JsonValue] | None:
        """The fact ``name`` after catching up with every write acknowledged before."""
        await self._table.sync()
        fact = self._table.fact(name)
        return fact.value if fact is not None else None

    async def put(self, name: str, value: Mapping[str, JsonValue]) -> None:
        """Write the fact ``name`` durably."""
        await self._journal.put_fact(name, value)

    async def delete(self, name: str) -> None:
        """Forget the fact ``name`` durably."""
        await self._journal.delete_fact(name)
