"""Every op's domain logic, in process against the simulator: no broker, no subprocess."""

import pytest

from bria_fleet.api import UnsupportedOperation
from bria_fleet.runtime.outcomes import Completed, Watching
from bria_fleet.workers.domains import logic_for
from bria_fleet_contracts import OPS_BY_DOMAIN, Domain
from bria_fleet_contracts.events import EVENT_TYPES
from bria_fleet_contracts.examples import example_requests
from tests.workers.logic_support import Job, sim_api

EXAMPLES = [(request.domain, request.op, request) for request in example_requests()]
QUICK = {
    "training_seconds": 0.05,
    "stopping_seconds": 0.05,
    "caption_seconds": 0.05,
    "generation_seconds": 0.05,
}


def test_the_examples_cover_every_op() -> None:
    covered = {(domain, op) for domain, op, _ in EXAMPLES}
    assert covered == {(d, op) for d, ops in OPS_BY_DOMAIN.items() for op in ops}


@pytest.mark.parametrize(
    ("domain", "op", "request_model"), EXAMPLES, ids=[f"{d}.{o}" for d, o, _ in EXAMPLES]
)
async def test_each_op_s_logic_ends_in_its_terminal_event(
    domain: Domain, op: str, request_model: object
) -> None:
    raw = request_model.model_dump_json(exclude_none=True).encode()  # type: ignore[attr-defined]
    for backend in ("engine", "vision-studio"):
        async with sim_api(backend, **QUICK) as api:
            job = Job(logic_for(domain)(), api)
            try:
                request, outcome = await job.run(raw)
            except UnsupportedOperation:
                continue
            if isinstance(outcome, Watching):
                outcome, _ = await job.watch(request, outcome)
            assert isinstance(outcome, Completed)
            assert outcome.event.type in EVENT_TYPES
            assert outcome.event.type.startswith(f"{domain}.")
            return
    pytest.fail(f"no backend runs {domain}.{op}")
