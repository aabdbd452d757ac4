"""The simulator's own Prometheus metrics (``/_sim/metrics``): what it was asked and answered.

Read from its counters when scraped, so serving an API call costs nothing extra.
"""

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from bria_fleet.sim.simulator import Simulator


class _SimCollector(Collector):
    def __init__(self, sim: Simulator) -> None:
        self._sim = sim

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        requests = CounterMetricFamily(
            "bria_sim_requests",
            "API calls the simulator answered, by method, route template and status.",
            labels=["method", "route", "status"],
        )
        for (label, status), count in sorted(self._sim.counters.statuses.items()):
            method, _, route = label.partition(" ")
            requests.add_metric([method, route, str(status)], count)
        yield requests
        webhooks = CounterMetricFamily(
            "bria_sim_webhook_attempts",
            "Webhook deliveries the simulator attempted, by outcome.",
            labels=["outcome"],
        )
        outcomes: dict[str, int] = {}
        for attempt in self._sim.webhooks.attempts:
            outcome = str(attempt.status) if attempt.status is not None else "no_answer"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        for outcome, count in sorted(outcomes.items()):
            webhooks.add_metric([outcome], count)
        yield webhooks
        pending = GaugeMetricFamily(
            "bria_sim_webhooks_pending", "Webhook deliveries waiting to be sent."
        )
        pending.add_metric([], len(self._sim.webhooks.pending))
        yield pending


def metrics_registry(sim: Simulator) -> CollectorRegistry:
    """A registry holding the simulator's metrics."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(_SimCollector(sim))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    """The registry in Prometheus's text format."""
    return generate_latest(registry)
