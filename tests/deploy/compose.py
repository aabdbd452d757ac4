"""The compose file as the tests read it: variables substituted with their defaults."""

import re
from typing import Any

import yaml

from tests.deploy.tooling import COMPOSE_FILE

_VARIABLE = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")
FLEET_IMAGE_DEFAULT = "bria-fleet:dev"


def compose_config(variables: dict[str, str] | None = None) -> dict[str, Any]:
    """docker-compose.yml with ``${NAME:-default}`` replaced (``variables`` first)."""
    given = variables or {}
    text = _VARIABLE.sub(
        lambda m: given.get(m.group(1), m.group(2) or ""), COMPOSE_FILE.read_text()
    )
    config: dict[str, Any] = yaml.safe_load(text)
    return config


def fleet_services(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run the bria-fleet image."""
    return {
        name: service
        for name, service in config["services"].items()
        if service.get("image") == FLEET_IMAGE_DEFAULT
    }


def worker_services(config: dict[str, Any]) -> dict[str, str]:
    """Service name to domain, for the services that run a worker."""
    return {
        name: service["command"][1]
        for name, service in fleet_services(config).items()
        if service["command"][0] == "worker"
    }
