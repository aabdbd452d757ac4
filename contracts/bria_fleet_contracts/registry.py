"""Which requests belong to which domain: unions, op names, and their models."""

from typing import Annotated, Any, get_args

from pydantic import Field, TypeAdapter

from bria_fleet_contracts.caption import CaptionRequest
from bria_fleet_contracts.envelope import RequestBase
from bria_fleet_contracts.generation import GenerationRequest
from bria_fleet_contracts.ingest import IngestRequest
from bria_fleet_contracts.topics import DOMAINS, Domain
from bria_fleet_contracts.training import TrainingRequest

REQUEST_UNIONS: dict[Domain, Any] = {
    "ingest": IngestRequest,
    "caption": CaptionRequest,
    "training": TrainingRequest,
    "generation": GenerationRequest,
}
"""Each domain's request union (an ``Annotated`` discriminated union on ``op``)."""


def _members(union: Any) -> tuple[type[RequestBase], ...]:
    return tuple(get_args(get_args(union)[0]))


REQUEST_MODELS: dict[Domain, tuple[type[RequestBase], ...]] = {
    domain: _members(REQUEST_UNIONS[domain]) for domain in DOMAINS
}
"""Each domain's request models, in declaration order."""

OPS_BY_DOMAIN: dict[Domain, tuple[str, ...]] = {
    domain: tuple(model.model_fields["op"].default for model in REQUEST_MODELS[domain])
    for domain in DOMAINS
}
"""Each domain's op names."""

Request = Annotated[
    IngestRequest | CaptionRequest | TrainingRequest | GenerationRequest,
    Field(discriminator="op"),
]
"""Any request of any domain (op names are unique across domains)."""

_ADAPTERS: dict[Domain, TypeAdapter[Any]] = {
    domain: TypeAdapter(REQUEST_UNIONS[domain]) for domain in DOMAINS
}


def request_adapter(domain: Domain) -> TypeAdapter[Any]:
    """The pydantic adapter validating ``domain``'s request union."""
    return _ADAPTERS[domain]


def ops_for(domain: Domain) -> tuple[str, ...]:
    """The op names of ``domain``."""
    return OPS_BY_DOMAIN[domain]


def domain_of_op(op: str) -> Domain | None:
    """The domain an op belongs to, or None if no domain has it."""
    for domain, ops in OPS_BY_DOMAIN.items():
        if op in ops:
            return domain
    return None


def request_model(domain: Domain, op: str) -> type[RequestBase]:
    """The model of ``op`` in ``domain``; KeyError if there is none."""
    for model in REQUEST_MODELS[domain]:
        if model.model_fields["op"].default == op:
            return model
    raise KeyError(f"{domain} has no op {op!r}")
