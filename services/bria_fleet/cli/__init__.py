"""The ``bria-fleet`` command line."""

from bria_fleet.cli.app import app, main

__all__ = ["app", "main"]
