"""A real Prometheus scrapes the four workers through the pipeline example and a fault window;
every dashboard panel query and every recording-rule expression then returns data."""

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from bria_fleet.sim import SimServer
from bria_fleet_monitoring.generate import RULES_PATH
from bria_fleet_monitoring.promql import (
    exposed_families,
    metric_names,
    panel_queries,
    rule_expressions,
    substitute,
)
from bria_fleet_monitoring.rules import RECORDS
from tests.fixtures.fleet import FleetEventsFor, StartWorker, Submit
from tests.fixtures.kafka import free_port
from tests.workers.helpers import EXAMPLES, example, set_faults

pytestmark = pytest.mark.integration

DOMAINS = ("ingest", "caption", "training", "generation")
FAST_POLLS = json.dumps(
    {
        kind: {"first_delay": 0.1, "growth": 1.0, "cap": 0.2, "deadline": 120}
        for kind in ("training", "captions", "generation")
    }
)

#: Panels that cannot have data in this test, and why.
NO_DATA_IN_THIS_TEST = {
    (
        "bria-fleet-kafka",
        "Processing exceptions per second",
    ): "the handler never raises: every error becomes an outcome (retry, failure event, dead"
    " letter), so faststream counts no exception",
    (
        "bria-fleet-api",
        "Generations whose answer was lost (not repeated) per second",
    ): "the fault window answers 429 and 503 before the API acts; a lost answer after the"
    " effect is tests/workers/test_paid_once.py's scenario",
    (
        "bria-fleet-operations",
        "Webhook deliveries per second by outcome",
    ): "the fleet here runs without WORKER_WEBHOOK_PUBLIC_URL; tests/workers/test_webhooks.py"
    " covers webhooks",
}


class Prometheus:
    """The Debian package's server binary on a free port, scraping the given targets."""

    def __init__(
        self, workdir: Path, targets: list[str], simulator: str, broker: str | None
    ) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            pytest.fail("prometheus is missing: run `make monitoring-tools`")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES_PATH)],
            "scrape_configs": [
                {"job_name": "bria-fleet", "static_configs": [{"targets": targets}]},
                {
                    "job_name": "bria-sim",
                    "metrics_path": "/_sim/metrics",
                    "static_configs": [{"targets": [simulator]}],
                },
                *(
                    [
                        {
                            "job_name": "kafka",
                            # A JMX collection takes longer than the workers' scrapes.
                            "scrape_interval": "5s",
                            "scrape_timeout": "4s",
                            "static_configs": [{"targets": [broker]}],
                        }
                    ]
                    if broker
                    else []
                ),
            ],
        }
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.log = workdir / "prometheus.log"
        self.process = subprocess.Popen(
            [
                binary,
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    async def wait_ready(self) -> None:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                try:
                    if (await client.get(f"{self.url}/-/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        pytest.fail(f"prometheus never became ready:\n{self.log.read_text()[-3000:]}")

    async def query(self, expr: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"{self.url}/api/v1/query", params={"query": expr})
        body = answer.json()
        assert body["status"] == "success", (expr, body)
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    async def get(self, path: str) -> Any:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{self.url}{path}")).json()["data"]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
async def fleet_and_prometheus(
    sim: SimServer, start_worker: StartWorker, tmp_path: Path, broker_metrics_url: str | None
) -> AsyncIterator[tuple[Prometheus, list[str]]]:
    workers = [
        start_worker(
            domain,
            api_base_url=sim.base_url,
            api_token=sim.token,
            WORKER_POLL_POLICIES=FAST_POLLS,
            WORKER_RETRY_DELAYS="[0.5, 0.5]",
            BRIA_API_RETRY_ATTEMPTS="2",
            BRIA_API_RETRY_BUDGET_SECONDS="2",
        )
        for domain in DOMAINS
    ]
    prometheus = Prometheus(
        tmp_path,
        [f"127.0.0.1:{worker.http_port}" for worker in workers],
        sim.base_url.removeprefix("http://"),
        None if broker_metrics_url is None else urlsplit(broker_metrics_url).netloc,
    )
    try:
        for worker in workers:
            await worker.wait_ready()
        await prometheus.wait_ready()
        yield prometheus, [worker.url for worker in workers]
    finally:
        prometheus.stop()


async def test_every_panel_and_recording_rule_has_data_after_a_pipeline_and_a_fault_window(
    sim: SimServer,
    fleet_and_prometheus: tuple[Prometheus, list[str]],
    submit: Submit,
    fleet_events: FleetEventsFor,
    broker_metrics_url: str | None,
) -> None:
    prometheus, worker_urls = fleet_and_prometheus
    events = {domain: await fleet_events(domain) for domain in DOMAINS}
    run = f"{time.monotonic_ns():x}"

    # The pipeline example, ingest to generated assets.
    request = json.loads((EXAMPLES / "pipeline.json").read_text())
    request["job_id"] = job_id = f"{request['job_id']}-prom-{run}"
    request["dataset"]["name"] = f"pipeline-{job_id}"
    await submit("ingest", request)
    await events["generation"].wait_terminal([f"{job_id}/caption/train/generate"], within=180)

    # A fault window: 429s and 5xx from the API while generation jobs run.
    set_faults(
        sim,
        seed=7,
        errors=[{"rate": 0.25, "status": 503}, {"rate": 0.25, "status": 429}],
    )
    faulted = [f"prom-{run}-fault-{n}" for n in range(30)]
    for fault_job in faulted:
        await submit("generation", example("generation", "text_to_image", fault_job))
    await events["generation"].wait_terminal(faulted, within=120)
    set_faults(sim)
    # One job the API refuses (a failure event) and one unreadable request (a dead letter).
    refused = f"prom-{run}-refused"
    await submit("generation", example("generation", "text_to_image", refused, model_id="999999"))
    await submit("generation", b"not json", key=f"prom-{run}-garbage")
    await events["generation"].wait_terminal([refused], within=60)
    await asyncio.sleep(4)  # a few more scrapes after the last job

    targets = await prometheus.get("/api/v1/targets")
    # The four workers, the simulator and (when it is the local one) the broker.
    expected = 5 if broker_metrics_url is None else 6
    assert [target["health"] for target in targets["activeTargets"]] == ["up"] * expected, targets
    if broker_metrics_url is not None:
        (messages_in,) = await prometheus.query(
            'kafka_server_BrokerTopicMetrics_Count{job="kafka", name="MessagesInPerSec"}'
        )
        assert float(messages_in["value"][1]) > 0, messages_in
    (served,) = await prometheus.query('sum(bria_sim_requests_total{job="bria-sim"})')
    assert float(served["value"][1]) > 0, served

    empty = []
    proved = []
    for uid, title, expr in panel_queries():
        if (uid, title) in NO_DATA_IN_THIS_TEST:
            continue
        if await prometheus.query(substitute(expr)):
            proved.append((uid, title))
        else:
            empty.append((uid, title, expr))
    for record in RECORDS:
        if not await prometheus.query(record.expr):
            empty.append(("rules", record.record, record.expr))
    print(f"panel queries with data: {len(proved)}; recording rules: {len(RECORDS)}")
    assert not empty, "no data for:\n" + "\n".join(map(str, empty))

    # Every metric a query names is one a running worker registers (or a recording rule).
    async with httpx.AsyncClient() as client:
        exposition = (await client.get(f"{worker_urls[0]}/metrics")).text
    known = exposed_families(exposition) | {record.record for record in RECORDS}
    named = {name for _, _, expr in panel_queries() for name in metric_names(expr)}
    named |= {name for _, expr in rule_expressions() for name in metric_names(expr)}
    assert named - known == set(), f"not exported by a worker: {sorted(named - known)}"
    assert "faststream_received_processed_messages_total" in named

    groups = (await prometheus.get("/api/v1/rules"))["groups"]
    loaded = [rule for group in groups for rule in group["rules"]]
    assert len(loaded) == len(RECORDS) + len(
        yaml.safe_load(RULES_PATH.read_text())["groups"][1]["rules"]
    )
    assert all(rule["health"] == "ok" for rule in loaded), loaded
