"""Topic and consumer-group names (docs/architecture.md §1).

These names are fixed: other systems use them.
"""

from dataclasses import dataclass
from typing import Literal, get_args

Domain = Literal["ingest", "caption", "training", "generation"]
DOMAINS: tuple[Domain, ...] = get_args(Domain)


@dataclass(frozen=True)
class DomainTopics:
    """Every topic of one domain."""

    domain: Domain
    requests: str
    events: str
    operations: str
    retry: str
    dlq: str

    @property
    def all(self) -> tuple[str, ...]:
        """All five topic names, requests first."""
        return (self.requests, self.events, self.operations, self.retry, self.dlq)

    @property
    def compacted(self) -> frozenset[str]:
        """The topics that must be created with ``cleanup.policy=compact``."""
        return frozenset({self.operations})


def topics_for(domain: Domain) -> DomainTopics:
    """The topic names of ``domain``."""
    prefix = f"bria.{domain}"
    return DomainTopics(
        domain=domain,
        requests=f"{prefix}.requests",
        events=f"{prefix}.events",
        operations=f"{prefix}.operations",
        retry=f"{prefix}.requests.retry",
        dlq=f"{prefix}.requests.dlq",
    )


def consumer_group(domain: Domain) -> str:
    """The consumer group of the domain's worker."""
    return f"bria-fleet-{domain}"
