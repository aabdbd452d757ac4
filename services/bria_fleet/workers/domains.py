"""Which logic each domain's worker runs."""

from collections.abc import Callable

from bria_fleet.errors import BriaFleetError
from bria_fleet.runtime.outcomes import AnyLogic
from bria_fleet.workers.caption import CaptionLogic
from bria_fleet.workers.generation import GenerationLogic
from bria_fleet.workers.ingest import IngestLogic
from bria_fleet.workers.training import TrainingLogic
from bria_fleet_contracts import Domain

_LOGIC: dict[Domain, Callable[[], AnyLogic]] = {
    "caption": CaptionLogic,
    "generation": GenerationLogic,
    "ingest": IngestLogic,
    "training": TrainingLogic,
}


def logic_for(domain: Domain) -> Callable[[], AnyLogic]:
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
