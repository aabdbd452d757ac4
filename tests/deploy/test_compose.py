"""docker-compose.yml: valid Compose, and what the Compose schema cannot see."""

import json
from typing import Any

import pytest
import typer
import yaml

from bria_fleet.cli import app
from bria_fleet.cli.root import _register_commands
from tests.deploy.compose import compose_config, fleet_services, worker_services
from tests.deploy.test_chart import documented_settings
from tests.deploy.tooling import CHART, COMPOSE_FILE, REPO, run, tool

DOMAINS = {"ingest", "caption", "training", "generation"}
GRAFANA = REPO / "deploy" / "compose" / "grafana" / "provisioning"


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return compose_config()


def test_compose_file_matches_the_compose_specification() -> None:
    run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE))


def test_the_schema_check_catches_an_unknown_key(tmp_path: Any) -> None:
    broken = compose_config()
    broken["services"]["sim"]["restart_policy"] = "always"
    path = tmp_path / "compose.yml"
    path.write_text(yaml.safe_dump(broken))
    result = run(
        tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path), check=False
    )
    assert result.returncode != 0
    assert "restart_policy" in result.stdout


def test_every_depends_on_names_a_service(config: dict[str, Any]) -> None:
    services = set(config["services"])
    for name, service in config["services"].items():
        for needed in service.get("depends_on", {}):
            assert needed in services, f"{name} depends on unknown service {needed}"


def test_all_four_workers_wait_for_the_topics_and_the_simulator(config: dict[str, Any]) -> None:
    workers = worker_services(config)
    assert set(workers.values()) == DOMAINS
    for name in workers:
        depends = config["services"][name]["depends_on"]
        assert depends["topics"] == {"condition": "service_completed_successfully"}
        assert depends["sim"] == {"condition": "service_healthy"}
        assert "/readyz" in " ".join(config["services"][name]["healthcheck"]["test"])
    assert config["services"]["topics"]["depends_on"]["kafka"] == {"condition": "service_healthy"}


def parse_fleet_command(args: list[str]) -> str:
    """Parse ``bria-fleet args`` as the CLI would, without running it; the command's name.

    Raises click's usage errors for an unknown command, option or argument value.
    """
    _register_commands()
    command: Any = typer.main.get_command(app)
    while hasattr(command, "list_commands"):
        context = command.make_context("bria-fleet", [], resilient_parsing=True)
        sub = command.get_command(context, args[0])
        if sub is None:
            raise LookupError(f"bria-fleet has no command {args[0]!r}")
        command, args = sub, args[1:]
    command.make_context(command.name, list(args))
    name: str = command.name
    return name


def test_every_fleet_command_is_a_real_bria_fleet_command(config: dict[str, Any]) -> None:
    override = yaml.safe_load((REPO / "tests" / "deploy" / "compose.local-images.yml").read_text())
    commands = [service["command"] for service in fleet_services(config).values()]
    commands += [s["command"] for s in override["services"].values() if "command" in s]
    assert {parse_fleet_command(list(command)) for command in commands} == {
        "create",
        "sim",
        "worker",
    }


@pytest.mark.parametrize(
    "command",
    [["worker", "ingestt"], ["topic", "create"], ["sim", "--bogus"]],
    ids=["bad argument", "unknown command", "unknown option"],
)
def test_the_command_check_refuses_what_the_cli_would(command: list[str]) -> None:
    with pytest.raises(Exception, match=r"ingestt|topic|bogus"):
        parse_fleet_command(command)


def test_every_environment_variable_is_a_documented_setting(config: dict[str, Any]) -> None:
    documented = documented_settings()
    for name, service in fleet_services(config).items():
        # OTEL_* are OpenTelemetry's own standard variables (README, "Traces").
        named = {v for v in service.get("environment", {}) if not v.startswith("OTEL_")}
        unknown = named - documented
        assert not unknown, f"{name} sets undocumented variables {unknown}"


def test_published_host_ports_are_unique(config: dict[str, Any]) -> None:
    published = [
        port.split(":")[0]
        for service in config["services"].values()
        for port in service.get("ports", [])
    ]
    assert len(published) == len(set(published)), published


def test_prometheus_scrapes_every_worker_and_loads_the_fleet_rules(
    config: dict[str, Any],
) -> None:
    prometheus = config["services"]["prometheus"]
    mounts = dict(volume.split(":")[:2] for volume in prometheus["volumes"])
    scrape = yaml.safe_load((REPO / "deploy/compose/prometheus/prometheus.yml").read_text())
    (fleet_job,) = [job for job in scrape["scrape_configs"] if job["job_name"] == "bria-fleet"]
    targets = {
        target: group["labels"]["domain"]
        for group in fleet_job["static_configs"]
        for target in group["targets"]
    }
    port = config["x-fleet-env"]["HTTP_PORT"]
    assert targets == {f"{name}:{port}": domain for name, domain in worker_services(config).items()}
    rules_mount = mounts["./helm/bria-fleet/files/prometheus-rules.yaml"]
    (rule_glob,) = scrape["rule_files"]
    assert rules_mount.startswith(rule_glob.split("*")[0])
    assert rules_mount.endswith(rule_glob.split("*")[1])
    assert mounts["./deploy/compose/prometheus/prometheus.yml"] == "/etc/prometheus/prometheus.yml"


def test_grafana_provisions_the_prometheus_datasource_and_the_fleet_dashboards(
    config: dict[str, Any],
) -> None:
    grafana = config["services"]["grafana"]
    mounts = dict(volume.split(":")[:2] for volume in grafana["volumes"])
    assert mounts["./deploy/compose/grafana/provisioning"] == "/etc/grafana/provisioning"
    (source,) = yaml.safe_load((GRAFANA / "datasources" / "prometheus.yaml").read_text())[
        "datasources"
    ]
    assert source["type"] == "prometheus"
    assert source["url"] == "http://prometheus:9090"
    assert "9090" in config["services"]["prometheus"]["ports"][0].split(":")[1]
    (provider,) = yaml.safe_load((GRAFANA / "dashboards" / "bria-fleet.yaml").read_text())[
        "providers"
    ]
    assert provider["type"] == "file"
    assert mounts["./helm/bria-fleet/files/dashboards"] == provider["options"]["path"]
    dashboards = list((CHART / "files" / "dashboards").glob("*.json"))
    assert dashboards
    for path in dashboards:
        assert json.loads(path.read_text())["uid"]
