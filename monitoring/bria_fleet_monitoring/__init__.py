"""Dashboards, alert and recording rules of the fleet, as code (issue 11).

``python -m bria_fleet_monitoring.generate`` writes them where the chart and compose read
them; ``--check`` fails when a generated file is stale.
"""
