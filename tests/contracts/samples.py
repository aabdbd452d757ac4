"""One valid event of every type, shared by the event tests (the contracts' own examples)."""

from bria_fleet_contracts.event_examples import (
    EXAMPLE_EVENT_DATA as DATA,
)
from bria_fleet_contracts.event_examples import (
    EXAMPLE_FAILURE as FAILURE,
)
from bria_fleet_contracts.event_examples import (
    EXAMPLE_TIME as WHEN,
)
from bria_fleet_contracts.event_examples import (
    example_event as sample_event,
)

__all__ = ["DATA", "FAILURE", "WHEN", "sample_event"]
