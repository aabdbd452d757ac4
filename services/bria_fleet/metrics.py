"""Every Prometheus metric the fleet defines (names fixed by docs/architecture.md §4 and §6).

They live on one registry, shared with faststream's Kafka Prometheus middleware, so that a
worker's ``/metrics`` serves them all.
"""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_DELAY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
_OPERATION_BUCKETS = (1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0)

API_REQUESTS = Counter(
    "bria_fleet_api_requests",
    "Requests made to the Bria API, by route template, method and HTTP status (or error kind).",
    ["route", "method", "status"],
    registry=REGISTRY,
)
API_REQUEST_DURATION = Histogram(
    "bria_fleet_api_request_duration_seconds",
    "Time for one request to the Bria API, by route template.",
    ["route"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
API_OUTCOME_UNKNOWN = Counter(
    "bria_fleet_api_outcome_unknown",
    "Generation calls whose answer was lost and that were not repeated (each ends its job"
    " in api_outcome_unknown), by route template.",
    ["route"],
    registry=REGISTRY,
)
API_HELD_BACK = Counter(
    "bria_fleet_api_held_back",
    "API calls that waited because the API had asked the process to back off (a 429 or a"
    " Retry-After).",
    registry=REGISTRY,
)
WEBHOOKS = Counter(
    "bria_fleet_webhooks",
    "Webhook deliveries received, by outcome: nudged (a watch is polled now), unknown (no"
    " watch follows that request) or rejected (bad signature).",
    ["outcome"],
    registry=REGISTRY,
)
POLL_REQUESTS = Counter(
    "bria_fleet_poll_requests",
    "Status requests made while watching long operations, by kind and outcome.",
    ["kind", "outcome"],
    registry=REGISTRY,
)
POLL_DURATION = Histogram(
    "bria_fleet_poll_duration_seconds",
    "Time for one status request of a watched operation, by kind.",
    ["kind"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
POLL_DETECTION_DELAY = Histogram(
    "bria_fleet_poll_detection_delay_seconds",
    "From the API's own completion time to our terminal event, by kind.",
    ["kind"],
    buckets=_DELAY_BUCKETS,
    registry=REGISTRY,
)
OPERATION_DURATION = Histogram(
    "bria_fleet_operation_duration_seconds",
    "From the start of a watched operation to its terminal event, by kind and outcome.",
    ["kind", "outcome"],
    buckets=_OPERATION_BUCKETS,
    registry=REGISTRY,
)
WATCHES = Gauge(
    "bria_fleet_watches",
    "Operations this process is watching now, by kind.",
    ["kind"],
    registry=REGISTRY,
)
JOBS = Counter(
    "bria_fleet_jobs",
    "Jobs handled, by domain and outcome (completed, failed, watching, retried, dead_lettered,"
    " replayed, invalid).",
    ["domain", "outcome"],
    registry=REGISTRY,
)
JOBS_IN_FLIGHT = Gauge(
    "bria_fleet_jobs_in_flight",
    "Jobs being handled by this process now, by domain.",
    ["domain"],
    registry=REGISTRY,
)
KAFKA_WRITE_DURATION = Histogram(
    "bria_fleet_kafka_write_duration_seconds",
    "From handing messages to the producer to Kafka's acknowledgement, by what was written"
    " (messages, record, tombstone, forward).",
    ["kind"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "bria_fleet_consumer_lag",
    "Records in Kafka not yet fetched by this process (highwater minus position), per owned"
    " partition of the domain's requests and retry topics. Named apart from kafka_exporter's"
    " kafka_consumergroup_lag so that the two are never summed together.",
    ["domain", "topic", "partition"],
    registry=REGISTRY,
)
OLDEST_JOB_AGE = Gauge(
    "bria_fleet_oldest_job_age_seconds",
    "Age of the oldest job this process received and has not finished (0 when idle), by"
    " domain; a retried job waiting for its due time counts.",
    ["domain"],
    registry=REGISTRY,
)
WORKER_READY = Gauge(
    "bria_fleet_worker_ready",
    "1 while this process's worker of the domain is started, owns an assignment and its"
    " watcher runs (what /readyz says, short of pinging the broker); else 0.",
    ["domain"],
    registry=REGISTRY,
)
JOB_FAILURES = Counter(
    "bria_fleet_job_failures",
    "Jobs that ended in a failure event, by domain and error code (the event's error.code).",
    ["domain", "code"],
    registry=REGISTRY,
)
API_RETRIES = Counter(
    "bria_fleet_api_retries",
    "Bria API calls sent again in process after a retriable failure, by route template.",
    ["route"],
    registry=REGISTRY,
)
API_BUDGET_WAIT = Counter(
    "bria_fleet_api_budget_wait_seconds",
    "Time calls spent waiting for the per-process request budget (BRIA_API_REQUESTS_PER_SECOND)"
    " or a 429 back-off; its rate is the share of calls' time the budget costs.",
    registry=REGISTRY,
)
