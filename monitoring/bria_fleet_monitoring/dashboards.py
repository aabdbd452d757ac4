"""The fleet's Grafana dashboards, built with grafana-foundation-sdk (Grafana 11.6 schema).

One overview and three detail dashboards, linked to one another; each has a row per
concern, template variables for the datasource, namespace, instance and domain, and a unit
on every panel. Every query is a :class:`Query` so the checks can read them all.
"""

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from grafana_foundation_sdk.builders import dashboard as gd
from grafana_foundation_sdk.builders import prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import (
    DashboardLinkType,
    DataSourceRef,
    VariableOption,
    VariableRefresh,
)

DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
#: Selectors by template variable; workers outside Kubernetes have no namespace label,
#: which ``=~".*"`` (the "All" value) still matches.
WHERE = 'namespace=~"$namespace", instance=~"$instance"'
DOMAIN = f'{WHERE}, domain=~"$domain"'
APP = f'{WHERE}, app_name=~"bria-fleet-($domain)"'
RATE = "$__rate_interval"


@dataclass(frozen=True)
class Query:
    """One PromQL query of a panel, with its legend."""

    expr: str
    legend: str = ""


@dataclass(frozen=True)
class PanelSpec:
    """A panel: title, unit, queries, and whether it is a stat or a time series."""

    title: str
    unit: str
    queries: Sequence[Query]
    description: str = ""
    kind: str = "timeseries"
    width: int = 12


@dataclass(frozen=True)
class RowSpec:
    """A row of panels about one concern."""

    title: str
    panels: Sequence[PanelSpec]


@dataclass(frozen=True)
class DashboardSpec:
    """A whole dashboard."""

    uid: str
    title: str
    description: str
    rows: Sequence[RowSpec]


def quantiles(metric: str, by: str, selector: str, qs: Sequence[float]) -> list[Query]:
    """``histogram_quantile`` of ``metric`` for each of ``qs``, by ``by``."""
    return [
        Query(
            f"histogram_quantile({q}, sum by ({by}, le) (rate({metric}_bucket{{{selector}}}"
            f"[{RATE}])))",
            f"p{round(q * 100)} {{{{{by.split(',')[0].strip()}}}}}",
        )
        for q in qs
    ]


OVERVIEW = DashboardSpec(
    "bria-fleet-overview",
    "Bria fleet: overview",
    "Is the fleet keeping up, and is anything failing?",
    [
        RowSpec(
            "Throughput",
            [
                PanelSpec(
                    "Jobs per second by domain and outcome",
                    "ops",
                    [
                        Query(
                            f"sum by (domain, outcome) (rate(bria_fleet_jobs_total{{{DOMAIN}}}"
                            f"[{RATE}]))",
                            "{{domain}} {{outcome}}",
                        )
                    ],
                ),
                PanelSpec(
                    "Jobs in flight",
                    "short",
                    [
                        Query(
                            f"sum by (domain) (bria_fleet_jobs_in_flight{{{DOMAIN}}})",
                            "{{domain}}",
                        )
                    ],
                ),
            ],
        ),
        RowSpec(
            "Backlog",
            [
                PanelSpec(
                    "Consumer lag (records not yet fetched)",
                    "short",
                    [
                        Query(
                            f"sum by (domain, topic) (bria_fleet_consumer_lag{{{DOMAIN}}})",
                            "{{topic}}",
                        )
                    ],
                    "Reported by the workers; a cluster running kafka_exporter also has"
                    " kafka_consumergroup_lag (never add the two).",
                ),
                PanelSpec(
                    "Oldest unfinished job",
                    "s",
                    [
                        Query(
                            f"max by (domain) (bria_fleet_oldest_job_age_seconds{{{DOMAIN}}})",
                            "{{domain}}",
                        )
                    ],
                ),
            ],
        ),
        RowSpec(
            "Failures",
            [
                PanelSpec(
                    "Retries and dead letters per second",
                    "ops",
                    [
                        Query(
                            "sum by (domain, outcome) (rate(bria_fleet_jobs_total{"
                            f'{DOMAIN}, outcome=~"retried|dead_lettered|invalid"}}[{RATE}]))',
                            "{{domain}} {{outcome}}",
                        )
                    ],
                ),
                PanelSpec(
                    "Failure ratio by domain",
                    "percentunit",
                    [
                        Query(
                            "sum by (domain) (rate(bria_fleet_jobs_total{"
                            f'{DOMAIN}, outcome=~"failed|dead_lettered"}}[{RATE}]))'
                            " / sum by (domain) (rate(bria_fleet_jobs_total{"
                            f'{DOMAIN}, outcome=~"completed|failed|dead_lettered"}}[{RATE}]))',
                            "{{domain}}",
                        )
                    ],
                ),
                PanelSpec(
                    "Failures by error code",
                    "ops",
                    [
                        Query(
                            "sum by (domain, code) (rate(bria_fleet_job_failures_total"
                            f"{{{DOMAIN}}}[{RATE}]))",
                            "{{domain}} {{code}}",
                        )
                    ],
                ),
                PanelSpec(
                    "Failed API calls by status or error kind",
                    "ops",
                    [
                        Query(
                            "sum by (status) (rate(bria_fleet_api_requests_total{"
                            f'{WHERE}, status!~"2.."}}[{RATE}]))',
                            "{{status}}",
                        )
                    ],
                ),
            ],
        ),
        RowSpec(
            "Workers",
            [
                PanelSpec(
                    "Ready workers per domain",
                    "short",
                    [
                        Query(
                            f"sum by (domain) (bria_fleet_worker_ready{{{DOMAIN}}})",
                            "{{domain}}",
                        )
                    ],
                    kind="stat",
                    width=24,
                ),
            ],
        ),
    ],
)

API = DashboardSpec(
    "bria-fleet-api",
    "Bria fleet: Bria API",
    "Is the Bria API hurting us?",
    [
        RowSpec(
            "Requests",
            [
                PanelSpec(
                    "Requests by route and status",
                    "reqps",
                    [
                        Query(
                            "sum by (route, status) (rate(bria_fleet_api_requests_total"
                            f"{{{WHERE}}}[{RATE}]))",
                            "{{route}} {{status}}",
                        )
                    ],
                    width=24,
                ),
            ],
        ),
        RowSpec(
            "Latency",
            [
                PanelSpec(
                    "Request duration p50 / p95 / p99 by route",
                    "s",
                    quantiles(
                        "bria_fleet_api_request_duration_seconds",
                        "route",
                        WHERE,
                        (0.5, 0.95, 0.99),
                    ),
                    width=24,
                ),
            ],
        ),
        RowSpec(
            "Errors and retries",
            [
                PanelSpec(
                    "429 and 5xx answers per second",
                    "reqps",
                    [
                        Query(
                            "sum by (status) (rate(bria_fleet_api_requests_total{"
                            f'{WHERE}, status=~"429|5.."}}[{RATE}]))',
                            "{{status}}",
                        )
                    ],
                ),
                PanelSpec(
                    "429 and 5xx ratio",
                    "percentunit",
                    [
                        Query(
                            "sum(rate(bria_fleet_api_requests_total{"
                            f'{WHERE}, status="429"}}[{RATE}]))'
                            f" / sum(rate(bria_fleet_api_requests_total{{{WHERE}}}[{RATE}]))",
                            "429",
                        ),
                        Query(
                            "sum(rate(bria_fleet_api_requests_total{"
                            f'{WHERE}, status=~"5.."}}[{RATE}]))'
                            f" / sum(rate(bria_fleet_api_requests_total{{{WHERE}}}[{RATE}]))",
                            "5xx",
                        ),
                    ],
                ),
                PanelSpec(
                    "In-process retries per second by route",
                    "reqps",
                    [
                        Query(
                            "sum by (route) (rate(bria_fleet_api_retries_total"
                            f"{{{WHERE}}}[{RATE}]))",
                            "{{route}}",
                        )
                    ],
                ),
                PanelSpec(
                    "Jobs sent through the retry topic per second",
                    "ops",
                    [
                        Query(
                            "sum by (domain) (rate(bria_fleet_jobs_total{"
                            f'{DOMAIN}, outcome="retried"}}[{RATE}]))',
                            "{{domain}}",
                        )
                    ],
                ),
            ],
        ),
        RowSpec(
            "Request budget and back-off",
            [
                PanelSpec(
                    "Time calls wait for the request budget or a back-off",
                    "s",
                    [
                        Query(
                            "sum by (instance) (rate(bria_fleet_api_budget_wait_seconds_total"
                            f"{{{WHERE}}}[{RATE}]))",
                            "{{instance}}",
                        )
                    ],
                    "Seconds of waiting per second, per process: 0 when neither the budget"
                    " (BRIA_API_REQUESTS_PER_SECOND) nor a 429 or Retry-After holds calls.",
                ),
                PanelSpec(
                    "Calls held back by the API's back-off per second",
                    "reqps",
                    [
                        Query(
                            "sum by (instance) (rate(bria_fleet_api_held_back_total"
                            f"{{{WHERE}}}[{RATE}]))",
                            "{{instance}}",
                        )
                    ],
                    "Calls that waited because the API asked the process to back off (a 429"
                    " or any Retry-After); they are released spread out afterwards.",
                ),
            ],
        ),
        RowSpec(
            "Paid once",
            [
                PanelSpec(
                    "Generations whose answer was lost (not repeated) per second",
                    "reqps",
                    [
                        Query(
                            "sum by (route) (rate(bria_fleet_api_outcome_unknown_total"
                            f"{{{WHERE}}}[{RATE}]))",
                            "{{route}}",
                        )
                    ],
                    "Each ended its job in api_outcome_unknown instead of risking a second"
                    " paid generation (README, Retries).",
                    width=24,
                ),
            ],
        ),
    ],
)

OPERATIONS = DashboardSpec(
    "bria-fleet-operations",
    "Bria fleet: long operations",
    "Which watched operations run, and how late do we see them finish?",
    [
        RowSpec(
            "Watches",
            [
                PanelSpec(
                    "Watches by kind",
                    "short",
                    [Query(f"sum by (kind) (bria_fleet_watches{{{WHERE}}})", "{{kind}}")],
                ),
                PanelSpec(
                    "Status polls per second by outcome",
                    "reqps",
                    [
                        Query(
                            "sum by (kind, outcome) (rate(bria_fleet_poll_requests_total"
                            f"{{{WHERE}}}[{RATE}]))",
                            "{{kind}} {{outcome}}",
                        )
                    ],
                ),
            ],
        ),
        RowSpec(
            "Timing",
            [
                PanelSpec(
                    "Poll duration p95 by kind",
                    "s",
                    quantiles("bria_fleet_poll_duration_seconds", "kind", WHERE, (0.95,)),
                ),
                PanelSpec(
                    "Detection delay (API completion to our event) p50 / p95",
                    "s",
                    quantiles(
                        "bria_fleet_poll_detection_delay_seconds", "kind", WHERE, (0.5, 0.95)
                    ),
                ),
                PanelSpec(
                    "Operation duration p50 by kind and outcome",
                    "s",
                    [
                        Query(
                            "histogram_quantile(0.5, sum by (kind, outcome, le) (rate("
                            f"bria_fleet_operation_duration_seconds_bucket{{{WHERE}}}[{RATE}])))",
                            "{{kind}} {{outcome}}",
                        )
                    ],
                    width=24,
                ),
            ],
        ),
        RowSpec(
            "Webhooks",
            [
                PanelSpec(
                    "Webhook deliveries per second by outcome",
                    "reqps",
                    [
                        Query(
                            "sum by (outcome) (rate(bria_fleet_webhooks_total"
                            f"{{{WHERE}}}[{RATE}]))",
                            "{{outcome}}",
                        )
                    ],
                    "nudged: a watch is polled now; unknown: no watch follows that request;"
                    " rejected: a bad signature. Empty while WORKER_WEBHOOK_PUBLIC_URL is unset.",
                    width=24,
                ),
            ],
        ),
    ],
)

KAFKA = DashboardSpec(
    "bria-fleet-kafka",
    "Bria fleet: Kafka side",
    "Kafka writes and faststream's own message metrics.",
    [
        RowSpec(
            "Writes",
            [
                PanelSpec(
                    "Acknowledged write latency p95 by kind",
                    "s",
                    quantiles("bria_fleet_kafka_write_duration_seconds", "kind", WHERE, (0.95,)),
                    width=24,
                ),
            ],
        ),
        RowSpec(
            "faststream messages",
            [
                PanelSpec(
                    "Received per second",
                    "ops",
                    [
                        Query(
                            "sum by (app_name, handler) (rate("
                            f"faststream_received_messages_total{{{APP}}}[{RATE}]))",
                            "{{app_name}} {{handler}}",
                        )
                    ],
                ),
                PanelSpec(
                    "Processed per second by status",
                    "ops",
                    [
                        Query(
                            "sum by (app_name, status) (rate("
                            f"faststream_received_processed_messages_total{{{APP}}}[{RATE}]))",
                            "{{app_name}} {{status}}",
                        )
                    ],
                ),
                PanelSpec(
                    "Processing duration p95",
                    "s",
                    quantiles(
                        "faststream_received_processed_messages_duration_seconds",
                        "app_name",
                        APP,
                        (0.95,),
                    ),
                ),
                PanelSpec(
                    "Messages in process",
                    "short",
                    [
                        Query(
                            f"sum by (app_name) (faststream_received_messages_in_process{{{APP}}})",
                            "{{app_name}}",
                        )
                    ],
                ),
                PanelSpec(
                    "Processing exceptions per second",
                    "ops",
                    [
                        Query(
                            "sum by (app_name, exception_type) (rate("
                            "faststream_received_processed_messages_exceptions_total"
                            f"{{{APP}}}[{RATE}]))",
                            "{{app_name}} {{exception_type}}",
                        )
                    ],
                    width=24,
                ),
            ],
        ),
    ],
)

SPECS = (OVERVIEW, API, OPERATIONS, KAFKA)


def _variables() -> list[Any]:
    all_option = VariableOption(selected=True, text="All", value="$__all")

    def query_variable(name: str, label: str, query: str) -> Any:
        return (
            gd.QueryVariable(name)
            .label(label)
            .datasource(DATASOURCE)
            .query(query)
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
            .multi(True)
            .include_all(True)
            .all_value(".*")
            .current(all_option)
        )

    return [
        gd.DatasourceVariable("datasource").label("Data source").type("prometheus"),
        query_variable(
            "namespace", "Namespace", "label_values(bria_fleet_worker_ready, namespace)"
        ),
        query_variable(
            "instance",
            "Instance",
            'label_values(bria_fleet_worker_ready{namespace=~"$namespace"}, instance)',
        ),
        query_variable("domain", "Domain", "label_values(bria_fleet_worker_ready, domain)"),
    ]


def _panel(spec: PanelSpec) -> Any:
    builder: Any = stat.Panel() if spec.kind == "stat" else timeseries.Panel()
    builder = (
        builder.title(spec.title).unit(spec.unit).datasource(DATASOURCE).span(spec.width).height(8)
    )
    if spec.description:
        builder = builder.description(spec.description)
    for index, query in enumerate(spec.queries):
        builder = builder.with_target(
            prometheus.Dataquery()
            .expr(query.expr)
            .legend_format(query.legend)
            .ref_id(chr(ord("A") + index))
            .datasource(DATASOURCE)
        )
    return builder


def build(spec: DashboardSpec) -> dict[str, Any]:
    """The dashboard's JSON model."""
    board = (
        gd.Dashboard(spec.title)
        .uid(spec.uid)
        .description(spec.description)
        .tags(["bria-fleet"])
        .refresh("30s")
        .time("now-1h", "now")
        .link(
            gd.DashboardLink("Bria fleet")
            .type(DashboardLinkType.DASHBOARDS)
            .tags(["bria-fleet"])
            .as_dropdown(True)
            .include_vars(True)
            .keep_time(True)
        )
    )
    for variable in _variables():
        board = board.with_variable(variable)
    for row in spec.rows:
        board = board.with_row(gd.Row(row.title))
        for panel in row.panels:
            board = board.with_panel(_panel(panel))
    encoded = JSONEncoder(sort_keys=True, indent=2).encode(board.build())
    document: dict[str, Any] = json.loads(encoded)
    return document


DASHBOARDS: dict[str, Callable[[], dict[str, Any]]] = {
    spec.uid: partial(build, spec) for spec in SPECS
}
