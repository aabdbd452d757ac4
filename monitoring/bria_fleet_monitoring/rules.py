"""The fleet's Prometheus recording and alert rules, one plain rules file (``groups:``).

Every alert carries ``severity``, a ``summary`` and a ``runbook_url`` pointing at its
section of ``docs/runbook.md`` (the anchor is the alert's name in lower case).
"""

from dataclasses import dataclass, field
from typing import Any

RUNBOOK = "https://github.com/bria-fleet/bria-fleet/blob/main/docs/runbook.md"

#: Failures per terminal outcome above which a domain is failing.
FAILURE_RATIO = 0.10
#: API answers that are 5xx (or 429) above which the Bria API is hurting us.
API_5XX_RATIO = 0.05
API_429_RATIO = 0.20
#: Oldest unfinished job: retried jobs wait up to 120 s for their due time, so well past it.
OLDEST_JOB_SECONDS = 600
#: p95 detection delay objective per watch kind (training polls cap at minutes).
DETECTION_OBJECTIVE_SECONDS = {"training": 600, "other": 60}


@dataclass(frozen=True)
class Record:
    """A recording rule."""

    record: str
    expr: str

    def as_dict(self) -> dict[str, Any]:
        return {"record": self.record, "expr": self.expr}


@dataclass(frozen=True)
class Alert:
    """An alert rule; ``summary`` may use ``{{ $labels.x }}`` and ``{{ $value }}``."""

    alert: str
    expr: str
    severity: str
    summary: str
    description: str
    for_: str = "0m"
    labels: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "alert": self.alert,
            "expr": self.expr,
            "for": self.for_,
            "labels": {"severity": self.severity, **self.labels},
            "annotations": {
                "summary": self.summary,
                "description": self.description,
                "runbook_url": f"{RUNBOOK}#{self.alert.lower()}",
            },
        }


TERMINAL = 'outcome=~"completed|failed|dead_lettered"'

RECORDS = [
    Record(
        "bria_fleet:jobs:rate5m",
        "sum by (domain, outcome) (rate(bria_fleet_jobs_total[5m]))",
    ),
    Record(
        "bria_fleet:job_failure_ratio:rate5m",
        'sum by (domain) (rate(bria_fleet_jobs_total{outcome=~"failed|dead_lettered"}[5m]))'
        f" / sum by (domain) (rate(bria_fleet_jobs_total{{{TERMINAL}}}[5m]))",
    ),
    Record(
        "bria_fleet:consumer_lag:sum",
        "sum by (domain, topic) (bria_fleet_consumer_lag)",
    ),
    Record(
        "bria_fleet:oldest_job_age_seconds:max",
        "max by (domain) (bria_fleet_oldest_job_age_seconds)",
    ),
    Record(
        "bria_fleet:ready_workers:sum",
        "sum by (domain) (bria_fleet_worker_ready)",
    ),
    Record(
        "bria_fleet:api_requests:rate5m",
        "sum by (route, status) (rate(bria_fleet_api_requests_total[5m]))",
    ),
    Record(
        "bria_fleet:api_5xx_ratio:rate5m",
        'sum(rate(bria_fleet_api_requests_total{status=~"5.."}[5m]))'
        " / sum(rate(bria_fleet_api_requests_total[5m]))",
    ),
    Record(
        "bria_fleet:api_429_ratio:rate5m",
        'sum(rate(bria_fleet_api_requests_total{status="429"}[5m]))'
        " / sum(rate(bria_fleet_api_requests_total[5m]))",
    ),
    Record(
        "bria_fleet:poll_detection_delay_seconds:p95_30m",
        "histogram_quantile(0.95, sum by (kind, le)"
        " (rate(bria_fleet_poll_detection_delay_seconds_bucket[30m])))",
    ),
]

ALERTS = [
    Alert(
        "BriaFleetConsumerLagGrowing",
        "sum by (domain, topic) (bria_fleet_consumer_lag) > 100"
        " and sum by (domain, topic) (deriv(bria_fleet_consumer_lag[10m])) > 0",
        "warning",
        "Consumer lag of {{ $labels.topic }} keeps growing ({{ $value }} records behind)",
        "The {{ $labels.domain }} workers fetch more slowly than requests arrive.",
        for_="15m",
    ),
    Alert(
        "BriaFleetOldestJobTooOld",
        f"max by (domain) (bria_fleet_oldest_job_age_seconds) > {OLDEST_JOB_SECONDS}",
        "warning",
        "A {{ $labels.domain }} job has been running for {{ $value | humanizeDuration }}",
        "A worker received a job and has not finished it: stuck API call, Kafka writes"
        " failing, or a key blocked behind it.",
        for_="5m",
    ),
    Alert(
        "BriaFleetDeadLetters",
        'sum by (domain) (increase(bria_fleet_jobs_total{outcome=~"dead_lettered|invalid"}'
        "[10m])) > 0",
        "warning",
        "{{ $labels.domain }} requests went to the dead-letter topic",
        "Requests that were invalid or failed every retry are in bria.<domain>.requests.dlq.",
    ),
    Alert(
        "BriaFleetJobFailureRatioHigh",
        f"bria_fleet:job_failure_ratio:rate5m > {FAILURE_RATIO}",
        "critical",
        "{{ $value | humanizePercentage }} of {{ $labels.domain }} jobs fail",
        "More than one job in ten ends in a failure event or the dead-letter topic.",
        for_="10m",
    ),
    Alert(
        "BriaApi5xxRatioHigh",
        f"bria_fleet:api_5xx_ratio:rate5m > {API_5XX_RATIO}",
        "warning",
        "{{ $value | humanizePercentage }} of Bria API calls answer 5xx",
        "The Bria API is failing; jobs retry in process, then through .retry.",
        for_="10m",
    ),
    Alert(
        "BriaApi429RatioHigh",
        f"bria_fleet:api_429_ratio:rate5m > {API_429_RATIO}",
        "warning",
        "{{ $value | humanizePercentage }} of Bria API calls are rate-limited (429)",
        "The fleet asks more of the API than its quota; workers back off.",
        for_="10m",
    ),
    Alert(
        "BriaFleetDetectionDelayHigh",
        '(bria_fleet:poll_detection_delay_seconds:p95_30m{kind="training"}'
        f" > {DETECTION_OBJECTIVE_SECONDS['training']})"
        ' or (bria_fleet:poll_detection_delay_seconds:p95_30m{kind!="training"}'
        f" > {DETECTION_OBJECTIVE_SECONDS['other']})",
        "warning",
        "{{ $labels.kind }} completions reach Kafka {{ $value | humanizeDuration }} late (p95)",
        "From the API's completion time to our event, p95 over 30 minutes, is above its"
        " objective (10 min for training, 1 min for the others).",
        for_="15m",
    ),
    Alert(
        "BriaFleetNoReadyWorker",
        "(bria_fleet:ready_workers:sum == 0) or on (domain)"
        " (max by (domain) (max_over_time(bria_fleet_worker_ready[1h]))"
        " unless on (domain) bria_fleet:ready_workers:sum)",
        "critical",
        "No {{ $labels.domain }} worker is ready",
        "Requests to this domain are not being handled; they wait in Kafka.",
        for_="5m",
    ),
    Alert(
        "BriaFleetWatchPastDeadline",
        "sum by (kind) (increase(bria_fleet_operation_duration_seconds_count"
        '{outcome="deadline_exceeded"}[15m])) > 0',
        "warning",
        "A watched {{ $labels.kind }} operation ran past its deadline",
        "The operation did not reach a terminal status in time; its job failed with"
        " deadline_exceeded.",
    ),
]


def rules_document() -> dict[str, Any]:
    """The whole rules file."""
    return {
        "groups": [
            {
                "name": "bria-fleet.recording",
                "rules": [rule.as_dict() for rule in RECORDS],
            },
            {"name": "bria-fleet.alerts", "rules": [rule.as_dict() for rule in ALERTS]},
        ]
    }
