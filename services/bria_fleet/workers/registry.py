"""Which logic each domain's worker runs."""

from collections.abc import Callable

from bria_fleet.errors import BriaFleetError
from bria_fleet.runtime.outcomes import DomainLogic
from bria_fleet.workers.generation import GenerationLogic
from bria_fleet_contracts import Domain

_LOGIC: dict[Domain, Callable[[], DomainLogic]] = {
    "generation": GenerationLogic,
}


def logic_for(domain: Domain) -> Callable[[], DomainLogic]:
    """The factory of ``domain``'s logic."""
    try:
        return _LOGIC[domain]
    except KeyError:
        available = ", ".join(sorted(_LOGIC))
        raise BriaFleetError(
            f"the {domain} worker is not built yet; available workers: {available}"
        ) from None


def available_domains() -> list[Domain]:
    """The domains whose worker can run."""
    return sorted(_LOGIC)
