"""The helm chart: linted, rendered, every object validated, bad values refused."""

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from bria_fleet.runtime.worker_settings import WorkerSettings
from bria_fleet.settings import ApiSettings, KafkaSettings
from tests.deploy.tooling import (
    CHART,
    EVERYTHING_ON,
    KUBERNETES_VERSION,
    REPO,
    refusal,
    render,
    run,
    tool,
)

Manifest = dict[str, Any]
DOMAINS = ("ingest", "caption", "training", "generation")
CRD_SCHEMAS = REPO / "tests" / "deploy" / "crd-schemas"
CRD_GROUPS = ("keda.sh", "monitoring.coreos.com")


@pytest.fixture(scope="module")
def default_objects() -> list[Manifest]:
    return render()


@pytest.fixture(scope="module")
def everything_objects() -> list[Manifest]:
    return render(EVERYTHING_ON)


def kinds(objects: list[Manifest]) -> Counter[str]:
    return Counter(obj["kind"] for obj in objects)


def of_kind(objects: list[Manifest], kind: str) -> list[Manifest]:
    return [obj for obj in objects if obj["kind"] == kind]


def crd_schema(obj: Manifest) -> Path:
    group, version = obj["apiVersion"].split("/")
    return CRD_SCHEMAS / group / f"{obj['kind'].lower()}_{version}.json"


@pytest.mark.parametrize("values", [[], [EVERYTHING_ON]], ids=["default", "everything-on"])
def test_helm_lint_strict_passes(values: list[Path]) -> None:
    args = [arg for path in values for arg in ("-f", str(path))]
    run(tool("helm"), "lint", "--strict", str(CHART), *args)


def test_default_values_render_the_four_workers_and_their_companions(
    default_objects: list[Manifest],
) -> None:
    assert kinds(default_objects) == {
        "ServiceAccount": 1,
        "ConfigMap": 1,
        "Deployment": 4,
        "Service": 4,
        "PodDisruptionBudget": 4,
        "Job": 1,
        "Pod": 1,
    }


def test_everything_on_renders_autoscaling_monitoring_and_secrets(
    everything_objects: list[Manifest],
) -> None:
    dashboards = list((CHART / "files" / "dashboards").glob("*.json"))
    assert kinds(everything_objects) == {
        "ServiceAccount": 1,
        "ConfigMap": 1 + len(dashboards),
        "Secret": 2,  # the SASL password, and its copy for the pre-install hook
        "Deployment": 4,
        "Service": 4,
        "PodDisruptionBudget": 4,
        "ScaledObject": 3,
        "TriggerAuthentication": 3,
        "HorizontalPodAutoscaler": 1,
        "ServiceMonitor": 1,
        "PodMonitor": 1,
        "PrometheusRule": 1,
        "Job": 1,
        "Pod": 1,
    }


@pytest.mark.parametrize("which", ["default_objects", "everything_objects"])
def test_core_objects_are_valid_for_the_named_kubernetes_version(
    which: str, request: pytest.FixtureRequest
) -> None:
    objects: list[Manifest] = request.getfixturevalue(which)
    core = [obj for obj in objects if obj["apiVersion"].split("/")[0] not in CRD_GROUPS]
    for obj in core:
        # Raises on any schema violation or unknown field.
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    assert core


def test_keda_and_prometheus_operator_objects_match_their_crd_schemas(
    everything_objects: list[Manifest],
) -> None:
    custom = [obj for obj in everything_objects if obj["apiVersion"].split("/")[0] in CRD_GROUPS]
    for obj in custom:
        schema = json.loads(crd_schema(obj).read_text())
        jsonschema.validate(obj, schema)
    assert {obj["kind"] for obj in custom} == {
        "ScaledObject",
        "TriggerAuthentication",
        "ServiceMonitor",
        "PodMonitor",
        "PrometheusRule",
    }


def test_the_crd_schemas_refuse_an_unknown_field(everything_objects: list[Manifest]) -> None:
    scaled = of_kind(everything_objects, "ScaledObject")[0]
    broken = {**scaled, "spec": {**scaled["spec"], "maxReplicas": 3}}
    with pytest.raises(jsonschema.ValidationError, match="maxReplicas"):
        jsonschema.validate(broken, json.loads(crd_schema(scaled).read_text()))


def test_each_domain_scales_on_its_own_consumer_group_and_requests_topic(
    everything_objects: list[Manifest],
) -> None:
    triggers = {
        obj["metadata"]["name"]: obj["spec"]["triggers"][0]
        for obj in of_kind(everything_objects, "ScaledObject")
    }
    for domain in ("ingest", "caption", "generation"):
        trigger = triggers[f"fleet-bria-fleet-{domain}"]
        assert trigger["type"] == "kafka"
        assert trigger["metadata"]["consumerGroup"] == f"bria-fleet-{domain}"
        assert trigger["metadata"]["topic"] == f"bria.{domain}.requests"
        assert trigger["metadata"]["sasl"] == "scram_sha512"
        assert trigger["metadata"]["tls"] == "enable"


KAFKA_SECURITY = {
    "SSL with a private CA": {
        "kafka.securityProtocol": "SSL",
        "kafka.ssl.existingSecret": "kafka-ca",
        "workers.ingest.autoscaling.keda.enabled": "true",
    },
    "SASL_PLAINTEXT with an existing Secret": {
        "kafka.securityProtocol": "SASL_PLAINTEXT",
        "kafka.sasl.mechanism": "SCRAM-SHA-256",
        "kafka.sasl.username": "fleet",
        "kafka.sasl.existingSecret": "kafka-user",
        "workers.ingest.autoscaling.keda.enabled": "true",
    },
}


@pytest.mark.parametrize("sets", KAFKA_SECURITY.values(), ids=KAFKA_SECURITY.keys())
def test_each_kafka_security_protocol_renders_valid_objects(sets: dict[str, str]) -> None:
    objects = render(sets=sets)
    for obj in objects:
        if obj["apiVersion"].split("/")[0] in CRD_GROUPS:
            jsonschema.validate(obj, json.loads(crd_schema(obj).read_text()))
        else:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    (config,) = [c for c in of_kind(objects, "ConfigMap")]
    assert config["data"]["KAFKA_SECURITY_PROTOCOL"] == sets["kafka.securityProtocol"]
    (auth,) = of_kind(objects, "TriggerAuthentication")
    assert auth["spec"]


def test_autoscaled_deployments_leave_replicas_to_the_autoscaler(
    everything_objects: list[Manifest],
) -> None:
    replicas = {
        obj["metadata"]["name"]: obj["spec"].get("replicas")
        for obj in of_kind(everything_objects, "Deployment")
    }
    assert set(replicas.values()) == {None}


def test_workers_run_locked_down_with_probes_and_a_longer_grace_period(
    default_objects: list[Manifest],
) -> None:
    for deployment in of_kind(default_objects, "Deployment"):
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert {m["mountPath"] for m in container["volumeMounts"]} >= {"/tmp"}
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert pod["terminationGracePeriodSeconds"] > 30  # WORKER_GRACEFUL_TIMEOUT
        assert container["args"][0] == "worker"
    assert sorted(
        d["spec"]["template"]["spec"]["containers"][0]["args"][1]
        for d in of_kind(default_objects, "Deployment")
    ) == sorted(DOMAINS)


def test_configmap_and_env_use_only_documented_setting_names(
    everything_objects: list[Manifest],
) -> None:
    documented = documented_settings()
    (config,) = [
        c
        for c in of_kind(everything_objects, "ConfigMap")
        if "data" in c and "KAFKA_BOOTSTRAP_SERVERS" in c["data"]
    ]
    assert set(config["data"]) <= documented
    for deployment in of_kind(everything_objects, "Deployment"):
        env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
        assert {item["name"] for item in env} <= documented


def test_secrets_never_appear_in_the_configmap_or_the_notes(tmp_path: Path) -> None:
    # `helm install --dry-run` needs a cluster: NOTES.txt is rendered here as a ConfigMap.
    chart = tmp_path / "bria-fleet"
    shutil.copytree(CHART, chart)
    notes_text = (chart / "templates" / "NOTES.txt").read_text()
    (chart / "templates" / "notes-probe.yaml").write_text(
        '{{- define "notes-probe" }}' + notes_text + "{{- end }}\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\n"
        'data: {notes: {{ include "notes-probe" . | quote }}}\n'
    )
    sets = ["--set", "bria.existingSecret=", "--set", "bria.token=tok-123"]
    rendered = run(
        tool("helm"),
        "template",
        "fleet",
        str(chart),
        "-f",
        str(EVERYTHING_ON),
        *sets,
        "--show-only",
        "templates/notes-probe.yaml",
    ).stdout
    notes = yaml.safe_load(rendered)["data"]["notes"]
    assert "bria-fleet submit generation - --wait" in notes
    assert "tok-123" not in notes
    assert "s3cret-sasl" not in notes
    objects = render(EVERYTHING_ON, sets={"bria.existingSecret": "", "bria.token": "tok-123"})
    config = json.dumps(of_kind(objects, "ConfigMap"))
    assert "tok-123" not in config
    assert "s3cret-sasl" not in config


def test_a_config_change_rolls_the_pods(default_objects: list[Manifest]) -> None:
    changed = render(sets={"bria.apiBaseUrl": "https://other.example.com"})
    before = of_kind(default_objects, "Deployment")[0]["spec"]["template"]["metadata"]
    after = of_kind(changed, "Deployment")[0]["spec"]["template"]["metadata"]
    assert before["annotations"]["checksum/config"] != after["annotations"]["checksum/config"]


def test_prometheus_rule_carries_the_rules_file(everything_objects: list[Manifest]) -> None:
    rules = yaml.safe_load((CHART / "files" / "prometheus-rules.yaml").read_text())
    (rule,) = of_kind(everything_objects, "PrometheusRule")
    assert rule["spec"]["groups"] == rules["groups"]


def test_dashboards_ship_one_sidecar_configmap_each(everything_objects: list[Manifest]) -> None:
    files = sorted(p.name for p in (CHART / "files" / "dashboards").glob("*.json"))
    maps = [
        c
        for c in of_kind(everything_objects, "ConfigMap")
        if c["metadata"]["labels"].get("grafana_dashboard") == "1"
    ]
    assert sorted(name for c in maps for name in c["data"]) == files
    for config in maps:
        for text in config["data"].values():
            assert json.loads(text)["title"]


def test_topics_job_is_a_hook_with_the_partitions_from_values(
    everything_objects: list[Manifest],
) -> None:
    (job,) = of_kind(everything_objects, "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    container = job["spec"]["template"]["spec"]["containers"][0]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert container["args"] == ["topics", "create"]
    assert env["KAFKA_TOPIC_PARTITIONS"] == "12"
    assert env["KAFKA_TOPIC_REPLICATION_FACTOR"] == "3"


def test_helm_test_pod_checks_every_workers_readyz(default_objects: list[Manifest]) -> None:
    (pod,) = of_kind(default_objects, "Pod")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    urls = pod["spec"]["containers"][0]["args"][1:]
    assert urls == [f"http://fleet-bria-fleet-{d}:8000/readyz" for d in DOMAINS]


REFUSALS = {
    "negative replicas": (
        {"workers.generation.replicas": "-1"},
        "/workers/generation/replicas",
    ),
    "hpa and keda both on": (
        {
            "workers.ingest.autoscaling.hpa.enabled": "true",
            "workers.ingest.autoscaling.keda.enabled": "true",
        },
        "workers.ingest: autoscaling.hpa and autoscaling.keda are both enabled",
    ),
    "grace period not longer than the drain timeout": (
        {"fleet.terminationGracePeriodSeconds": "30", "fleet.gracefulTimeoutSeconds": "30"},
        "must be longer than fleet.gracefulTimeoutSeconds",
    ),
    "token given both ways": (
        {"bria.token": "abc", "bria.existingSecret": "bria-api"},
        "bria.token and bria.existingSecret are both set",
    ),
    "no token at all": (
        {"bria.existingSecret": ""},
        "The Bria API token is missing",
    ),
    "sasl password given both ways": (
        {
            "kafka.securityProtocol": "SASL_SSL",
            "kafka.sasl.mechanism": "PLAIN",
            "kafka.sasl.password": "p",
            "kafka.sasl.existingSecret": "kafka-user",
        },
        "kafka.sasl.password and kafka.sasl.existingSecret are both set",
    ),
    "keda above the partition count": (
        {
            "workers.ingest.autoscaling.keda.enabled": "true",
            "workers.ingest.autoscaling.keda.maxReplicaCount": "10",
        },
        "maxReplicaCount (10) is above kafka.topics.partitions (3)",
    ),
    "unknown backend": (
        {"bria.backend": "dall-e"},
        "/bria/backend",
    ),
    "misspelt value": (
        {"workers.generation.replica": "3"},
        "replica",
    ),
}


@pytest.mark.parametrize(("sets", "message"), REFUSALS.values(), ids=REFUSALS.keys())
def test_bad_values_are_refused_with_a_readable_message(sets: dict[str, str], message: str) -> None:
    assert message in refusal(sets=sets)


def documented_settings() -> set[str]:
    """Every environment variable the fleet's settings classes read."""
    names: set[str] = set()
    for settings in (ApiSettings, KafkaSettings, WorkerSettings):
        prefix = str(settings.model_config.get("env_prefix", ""))
        for name, field in settings.model_fields.items():
            alias = field.validation_alias
            names.add(alias if isinstance(alias, str) else f"{prefix}{name}".upper())
    return names


@pytest.mark.parametrize("rendered", ["default_objects", "everything_objects"])
def test_the_workers_read_the_configmap_as_rendered(
    rendered: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    objects: list[Manifest] = request.getfixturevalue(rendered)
    (config,) = [
        c
        for c in of_kind(objects, "ConfigMap")
        if "data" in c and "KAFKA_BOOTSTRAP_SERVERS" in c["data"]
    ]
    for name, value in config["data"].items():
        monkeypatch.setenv(name, value)
    # Helm renders large numbers as floats ("1.048576e+06") unless told otherwise: every
    # value must parse as the settings' types, or the pods crash on start.
    worker = WorkerSettings()
    ApiSettings()
    KafkaSettings()
    assert worker.max_record_bytes == 1_048_576
