"""docker-compose.yml run under podman-compose, with the local images swapped in.

tests/deploy/compose.local-images.yml swaps in the images built here from Debian packages
(the fleet, a Kafka stand-in, Debian's Prometheus); Grafana is not started: its image is not
in Debian and no registry is reachable (its provisioning is checked in test_compose.py).

podman 4.3 runs healthchecks only from systemd timers, and there is no systemd here;
podman-compose therefore ignores `condition: service_healthy` on podman < 4.6, and its
`--requires` chains fail on a finished one-shot service. So the harness starts the services
one at a time (`up --no-deps`) in the order of their `depends_on`, waiting for each
condition itself: it runs the healthcheck (`podman healthcheck run`) for service_healthy,
and waits for exit code 0 for service_completed_successfully.
"""

import json
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from tests.deploy.compose import compose_config, worker_services
from tests.deploy.podman import environment
from tests.deploy.running import (
    exited_with,
    free_port,
    healthy,
    http_json,
    inspect,
    wait_until,
)
from tests.deploy.tooling import COMPOSE_FILE, REPO, tool

pytestmark = [pytest.mark.containers, pytest.mark.timeout(900)]

OVERRIDE = REPO / "tests" / "deploy" / "compose.local-images.yml"
NOT_RUN = {"grafana", "jaeger"}
PIPELINE_LIMIT_SECONDS = 300
PORT_VARIABLES = (
    "KAFKA_HOST_PORT",
    "SIM_PORT",
    "INGEST_METRICS_PORT",
    "CAPTION_METRICS_PORT",
    "TRAINING_METRICS_PORT",
    "GENERATION_METRICS_PORT",
    "PROMETHEUS_PORT",
    "GRAFANA_PORT",
)


@dataclass
class ComposeRun:
    project: str
    env: dict[str, str]
    config: dict[str, Any]
    started: list[str]

    def container(self, service: str) -> str:
        return f"{self.project}_{service}_1"

    def compose(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        command = [
            tool("podman-compose"),
            "--in-pod",
            "false",
            "-p",
            self.project,
            "-f",
            str(COMPOSE_FILE),
            "-f",
            str(OVERRIDE),
            *args,
        ]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env,
            cwd=REPO,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            pytest.fail(f"{' '.join(command)} exited {result.returncode}:\n{result.stderr}")
        return result


def start_order(services: dict[str, Any]) -> list[str]:
    """Services after everything they depend on."""
    order: list[str] = []

    def visit(name: str) -> None:
        if name not in order:
            for needed in services[name].get("depends_on", {}):
                visit(needed)
            order.append(name)

    for name in services:
        visit(name)
    return order


def wait_for_condition(run: ComposeRun, service: str, condition: str) -> None:
    container = run.container(service)
    if condition == "service_healthy":
        wait_until(lambda: healthy(container), timeout=180, what=f"{service} turning healthy")
    elif condition == "service_completed_successfully":
        wait_until(
            lambda: exited_with(container) == 0,
            timeout=180,
            what=f"{service} completing successfully",
        )
    else:
        wait_until(
            lambda: inspect(container)["State"]["Status"] == "running",
            timeout=60,
            what=f"{service} running",
        )


@pytest.fixture(scope="module")
def compose_run(local_images: dict[str, float]) -> Iterator[ComposeRun]:
    ports = {name: str(free_port()) for name in PORT_VARIABLES}
    run = ComposeRun(
        project=f"bria{secrets.token_hex(3)}",
        env={**environment(), **ports},
        config=compose_config(ports),
        started=[],
    )
    services = {k: v for k, v in run.config["services"].items() if k not in NOT_RUN}
    try:
        for service in start_order(services):
            for needed, rule in services[service].get("depends_on", {}).items():
                wait_for_condition(run, needed, rule["condition"])
            run.compose("up", "--detach", "--no-deps", service)
            run.started.append(service)
        yield run
    finally:
        if run.started:
            run.compose("down", "--timeout", "5", "--volumes", timeout=300)


def test_every_service_with_a_healthcheck_turns_healthy(compose_run: ComposeRun) -> None:
    checked = [s for s in compose_run.started if "healthcheck" in compose_run.config["services"][s]]
    for service in checked:
        container = compose_run.container(service)
        wait_until(lambda c=container: healthy(c), timeout=180, what=f"{service} healthy")
        assert inspect(container)["State"]["Health"]["Status"] == "healthy"
    assert set(checked) >= {"kafka", "sim", "prometheus", *worker_services(compose_run.config)}


def test_the_pipeline_example_ends_in_generation_completed(compose_run: ComposeRun) -> None:
    job_id = f"compose-{secrets.token_hex(4)}"
    pipeline = json.loads((REPO / "contracts" / "examples" / "pipeline.json").read_text())
    # Publishing is retried a few times: podman's container DNS sometimes misses a name for
    # a moment on a loaded machine, and this test is about the fleet, not the resolver.
    for _ in range(3):
        submit = subprocess.run(
            [
                "podman",
                "exec",
                "--interactive",
                compose_run.container("worker-ingest"),
                "bria-fleet",
                "submit",
                "ingest",
                "-",
            ],
            input=json.dumps({**pipeline, "job_id": job_id}),
            capture_output=True,
            text=True,
            env=compose_run.env,
            timeout=60,
            check=False,
        )
        if submit.returncode == 0 or "Unable to bootstrap" not in submit.stderr:
            break
        time.sleep(5)
    assert submit.returncode == 0, submit.stderr
    tail = subprocess.Popen(
        [
            "podman",
            "exec",
            compose_run.container("worker-generation"),
            "bria-fleet",
            "tail",
            "generation",
            "--json",
            "--from-beginning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=compose_run.env,
    )
    assert tail.stdout is not None
    # The tail never ends by itself: it is killed when the event came, or after the limit.
    limit = threading.Timer(PIPELINE_LIMIT_SECONDS, tail.kill)
    limit.start()
    seen: list[str] = []
    try:
        for line in tail.stdout:
            event = json.loads(line)
            if event["job_id"].startswith(job_id):
                seen.append(event["type"])
                if event["type"] in {"generation.completed", "generation.failed"}:
                    break
    finally:
        limit.cancel()
        tail.kill()
        tail.wait()
    assert seen[-1:] == ["generation.completed"], seen


def test_prometheus_scrapes_every_worker_and_loaded_the_rules(compose_run: ComposeRun) -> None:
    base = f"http://127.0.0.1:{compose_run.env['PROMETHEUS_PORT']}/api/v1"
    workers = worker_services(compose_run.config)

    def all_up() -> bool:
        targets = http_json(f"{base}/targets")["data"]["activeTargets"]
        fleet = {
            t["labels"]["domain"]: t["health"]
            for t in targets
            if t["labels"]["job"] == "bria-fleet"
        }
        return fleet == dict.fromkeys(workers.values(), "up")

    wait_until(all_up, timeout=90, what="Prometheus scraping all four workers")
    groups = http_json(f"{base}/rules")["data"]["groups"]
    rules_file = yaml.safe_load((REPO / "helm/bria-fleet/files/prometheus-rules.yaml").read_text())
    assert {group["name"] for group in groups} == {g["name"] for g in rules_file["groups"]}


def test_stopping_the_workers_drains_them_and_they_exit_0(compose_run: ComposeRun) -> None:
    workers = list(worker_services(compose_run.config))
    grace = compose_run.config["services"][workers[0]]["stop_grace_period"]
    compose_run.compose("stop", "--timeout", grace.rstrip("s"), *workers, timeout=300)
    for service in workers:
        assert exited_with(compose_run.container(service)) == 0, service
