"""Fixtures of the deployment tests: the locally built images, once per session."""

import pytest

from bria_fleet.localkafka import fetch_jars
from tests.deploy.podman import PodmanError, build_all


@pytest.fixture(scope="session")
def local_images() -> dict[str, float]:
    """Build the fleet, Kafka and Prometheus images (cached); seconds each build took."""
    try:
        took = build_all(fetch_jars())
    except PodmanError as error:
        pytest.fail(f"could not build the test images: {error}")
    print(f"\nimage builds (s): {took}")
    return took
