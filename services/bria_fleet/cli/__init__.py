"""The ``bria-fleet`` command line."""

from bria_fleet.cli.root import app, main

__all__ = ["app", "main"]
