"""Shared fixtures live in plugin modules under tests/fixtures, one concern each."""

pytest_plugins = [
    "tests.fixtures.kafka",
    "tests.fixtures.sim",
    "tests.fixtures.fleet",
]
