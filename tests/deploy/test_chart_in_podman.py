"""The chart's own objects run in containers: `helm template` fed to `podman kube play`.

podman 4.3 (Debian bookworm) runs Deployments and ConfigMaps with `kube play`, with the
rendered environment, user, security context, read-only root filesystem and emptyDir. Where
it lacks a feature the manifest is fed another way, and the test says which:
- Job: not supported; the topics Job's pod template is played as a Pod.
- Secret: `secretKeyRef` reads a podman secret holding a JSON map of base64 values, so each
  rendered Secret is stored that way with `podman secret create`.
- containerPort is published on the host by kube play, so four pods with port 8000 collide:
  each Deployment gets a free hostPort on 127.0.0.1, which is also how the test reaches it.
- Probes become a `curl` healthcheck (not in the image) and readiness/startup probes are
  ignored; the test calls /healthz and /readyz itself.
- terminationGracePeriodSeconds is not carried over (podman's stop timeout stays 10 s), so
  the drain test stops the worker with `podman stop --time` set to the rendered value.
- Services, PodDisruptionBudgets, the ServiceAccount and the `helm test` Pod need a cluster.
"""

import json
import secrets
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.podman import FLEET_IMAGE, KAFKA_IMAGE, environment, podman
from tests.deploy.running import (
    exited_with,
    free_port,
    http_status,
    inspect,
    wait_until,
)
from tests.deploy.tooling import REPO, render

pytestmark = [pytest.mark.containers, pytest.mark.timeout(900)]

DOMAINS = ("ingest", "caption", "training", "generation")
GRACEFUL_TIMEOUT = 20
GRACE_PERIOD = 40
SIM_LATENCY_MS = 3000
KAFKA_ENV = {
    "CLUSTER_ID": "4L6g3nShT-eMCtK--X86sw",
    "KAFKA_NODE_ID": "1",
    "KAFKA_PROCESS_ROLES": "broker,controller",
    "KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093",
    "KAFKA_ADVERTISED_LISTENERS": "PLAINTEXT://kafka:9092",
    "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
    "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
    "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
    "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
    "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
    "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
    "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
    "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
    "KAFKA_HEAP_OPTS": "-Xmx384m",
}


@dataclass
class ChartRun:
    """What the module's fixture started: names to inspect and ports to call."""

    network: str
    release: str
    ports: dict[str, int] = field(default_factory=dict)
    topics_log: str = ""
    topics_exit: int | None = None

    def worker(self, domain: str) -> str:
        return f"{self.release}-bria-fleet-{domain}-pod-0-worker"


def env_args(env: dict[str, str]) -> list[str]:
    return [arg for key, value in env.items() for arg in ("--env", f"{key}={value}")]


def chart_values() -> dict[str, str]:
    sets = {
        "image.repository": FLEET_IMAGE.split(":")[0],
        "image.tag": FLEET_IMAGE.split(":")[1],
        "image.pullPolicy": "Never",
        "kafka.bootstrapServers": "kafka:9092",
        "kafka.topics.partitions": "2",
        "bria.apiBaseUrl": "http://sim:8765",
        "bria.existingSecret": "",
        "bria.token": "sim-token",
        "fleet.gracefulTimeoutSeconds": str(GRACEFUL_TIMEOUT),
        "fleet.terminationGracePeriodSeconds": str(GRACE_PERIOD),
        "workers.generation.replicas": "1",
        "fleet.pollPolicies.training.first_delay": "1",
        "fleet.pollPolicies.training.cap": "2",
        "fleet.pollPolicies.training.deadline": "600",
    }
    return sets


def for_podman(objects: list[dict[str, Any]], ports: dict[str, int]) -> dict[str, Any]:
    """Split the rendered objects into what podman takes: play files and secrets."""
    secrets_data = {
        obj["metadata"]["name"]: obj["data"] for obj in objects if obj["kind"] == "Secret"
    }
    (job,) = [obj for obj in objects if obj["kind"] == "Job"]
    topics_pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": job["metadata"]["name"],
            "labels": job["spec"]["template"]["metadata"]["labels"],
        },
        "spec": {**job["spec"]["template"]["spec"], "restartPolicy": "Never"},
    }
    workers = []
    for obj in objects:
        if obj["kind"] != "Deployment":
            continue
        domain = obj["metadata"]["labels"]["app.kubernetes.io/component"]
        (container,) = obj["spec"]["template"]["spec"]["containers"]
        (http,) = container["ports"]
        http.update({"hostPort": ports[domain], "hostIP": "127.0.0.1"})
        workers.append(obj)
    config = [obj for obj in objects if obj["kind"] == "ConfigMap"]
    return {"secrets": secrets_data, "topics": [topics_pod], "workers": config + workers}


@pytest.fixture(scope="module")
def chart_run(
    local_images: dict[str, float], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ChartRun]:
    tag = secrets.token_hex(3)
    run = ChartRun(network=f"bria-chart-{tag}", release=f"c{tag}")
    run.ports = {domain: free_port() for domain in DOMAINS}
    work = tmp_path_factory.mktemp("chart-run")
    objects = render(sets=chart_values(), release=run.release)
    parts = for_podman(objects, run.ports)
    play_files: list[Path] = []
    podman("network", "create", run.network)
    try:
        podman(
            "run",
            "--detach",
            "--name",
            f"{run.release}-kafka",
            "--network",
            run.network,
            "--network-alias",
            "kafka",
            *env_args(KAFKA_ENV),
            KAFKA_IMAGE,
        )
        podman(
            "run",
            "--detach",
            "--name",
            f"{run.release}-sim",
            "--network",
            run.network,
            "--network-alias",
            "sim",
            FLEET_IMAGE,
            "sim",
            "--host",
            "0.0.0.0",
            "--port",
            "8765",
            "--quiet",
            "--latency-ms",
            str(SIM_LATENCY_MS),
            "--training-seconds",
            "2",
        )
        wait_until(
            lambda: (
                podman(
                    "exec",
                    f"{run.release}-kafka",
                    "/opt/kafka/bin/kafka-broker-api-versions.sh",
                    "--bootstrap-server",
                    "localhost:9092",
                    check=False,
                ).returncode
                == 0
            ),
            timeout=120,
            what="the Kafka container accepting connections",
        )
        for name, data in parts["secrets"].items():
            path = work / f"{name}.json"
            path.write_text(json.dumps(data))
            podman("secret", "create", name, str(path))
        for key in ("topics", "workers"):
            path = work / f"{key}.yaml"
            path.write_text(yaml.safe_dump_all(parts[key]))
            play_files.append(path)
        podman("kube", "play", "--network", run.network, str(play_files[0]))
        topics = f"{run.release}-bria-fleet-topics-topics"
        wait_until(
            lambda: exited_with(topics) is not None, timeout=180, what="the topics pod exiting"
        )
        run.topics_exit = exited_with(topics)
        run.topics_log = podman("logs", topics).stdout
        podman("kube", "play", "--network", run.network, str(play_files[1]))
        yield run
    finally:
        for path in reversed(play_files):
            podman("kube", "down", str(path), check=False)
        podman("rm", "--force", f"{run.release}-kafka", f"{run.release}-sim", check=False)
        for name in parts["secrets"]:
            podman("secret", "rm", name, check=False)
        podman("network", "rm", "--force", run.network, check=False)
        podman("volume", "rm", "--force", "tmp", check=False)


def test_the_topics_job_creates_every_topic(chart_run: ChartRun) -> None:
    assert chart_run.topics_exit == 0, chart_run.topics_log
    assert "20 created, 0 already there on kafka:9092." in chart_run.topics_log


def test_every_worker_turns_ready(chart_run: ChartRun) -> None:
    for domain, port in chart_run.ports.items():
        wait_until(
            lambda port=port: http_status(f"http://127.0.0.1:{port}/readyz") == 200,
            timeout=120,
            what=f"the {domain} worker's /readyz answering 200",
        )
        assert http_status(f"http://127.0.0.1:{port}/healthz") == 200


def test_workers_run_with_the_rendered_user_filesystem_and_environment(
    chart_run: ChartRun,
) -> None:
    for domain in DOMAINS:
        data = inspect(chart_run.worker(domain))
        host = data["HostConfig"]
        assert data["Config"]["User"] == "10001:10001"
        assert host["ReadonlyRootfs"] is True
        assert "CAP_NET_RAW" in host["CapDrop"]
        assert host["CapAdd"] in ([], None)
        assert "no-new-privileges" in host["SecurityOpt"]
        env = dict(item.split("=", 1) for item in data["Config"]["Env"])
        assert env["WORKER_GRACEFUL_TIMEOUT"] == str(GRACEFUL_TIMEOUT)
        assert env["BRIA_API_TOKEN"] == "sim-token"
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert data["Config"]["Cmd"][-2:] == ["worker", domain]
        # Writing outside the emptyDir fails: the root filesystem is read-only.
        probe = podman("exec", chart_run.worker(domain), "touch", "/opt/venv/x", check=False)
        assert probe.returncode != 0


def submit(run: ChartRun, job: dict[str, Any]) -> subprocess.Popen[str]:
    """``bria-fleet submit generation - --wait`` from a client container on the network."""
    with tempfile.TemporaryFile("w+") as request:
        request.write(json.dumps(job))
        request.seek(0)
        return subprocess.Popen(
            [
                "podman",
                "run",
                "--rm",
                "--interactive",
                "--network",
                run.network,
                "--env",
                "KAFKA_BOOTSTRAP_SERVERS=kafka:9092",
                FLEET_IMAGE,
                "submit",
                "generation",
                "-",
                "--wait",
                "--timeout",
                "180",
            ],
            stdin=request,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=environment(),
        )


def example_job(job_id: str) -> dict[str, Any]:
    path = REPO / "contracts" / "examples" / "generation" / "text_to_image.json"
    return {**json.loads(path.read_text()), "job_id": job_id}


def test_a_job_submitted_through_kafka_completes(chart_run: ChartRun) -> None:
    process = submit(chart_run, example_job(f"chart-{secrets.token_hex(4)}"))
    output, _ = process.communicate(timeout=240)
    assert process.returncode == 0, output
    assert "generation.completed" in output


def in_flight(port: int, domain: str) -> float:
    """``bria_fleet_jobs_in_flight`` of ``domain`` from the worker's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3) as response:
        text = response.read().decode()
    for line in text.splitlines():
        if line.startswith(f'bria_fleet_jobs_in_flight{{domain="{domain}"}}'):
            return float(line.split()[-1])
    return 0.0


def test_stopping_a_worker_drains_its_job_and_exits_0(chart_run: ChartRun) -> None:
    port = chart_run.ports["generation"]
    process = submit(chart_run, example_job(f"drain-{secrets.token_hex(4)}"))
    wait_until(lambda: in_flight(port, "generation") >= 1, timeout=90, what="a job in flight")
    started = time.monotonic()
    # SIGTERM, then SIGKILL after the rendered terminationGracePeriodSeconds.
    podman("stop", "--time", str(GRACE_PERIOD), chart_run.worker("generation"), timeout=120)
    took = time.monotonic() - started
    print(f"\ngeneration worker stopped in {took:.1f} s (grace period {GRACE_PERIOD} s)")
    assert exited_with(chart_run.worker("generation")) == 0
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 0, output
    assert "generation.completed" in output
    logs = (
        podman("logs", chart_run.worker("generation")).stdout
        + podman("logs", chart_run.worker("generation")).stderr
    )
    assert "Traceback" not in logs
