"""PromQL of the generated dashboards and rules: every expression, parsed, and its metrics."""

import re
from collections.abc import Iterator
from typing import Any

import promql_parser

from bria_fleet_monitoring.dashboards import SPECS, build
from bria_fleet_monitoring.rules import ALERTS, RECORDS

#: Values standing in for Grafana's variables, so that an expression parses and runs.
GRAFANA_VARIABLES = {
    "$__rate_interval": "1m",
    "$__interval": "1m",
    "$namespace": ".*",
    "$instance": ".*",
    "$domain": ".*",
}


def substitute(expr: str) -> str:
    """``expr`` with Grafana's template variables replaced by concrete values."""
    for variable, value in sorted(GRAFANA_VARIABLES.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace(variable, value)
    return expr


def panel_queries() -> Iterator[tuple[str, str, str]]:
    """``(dashboard uid, panel title, expression)`` for every dashboard panel query."""
    for spec in SPECS:
        for panel in build(spec)["panels"]:
            for target in panel.get("targets", []):
                yield spec.uid, panel["title"], target["expr"]


def rule_expressions() -> Iterator[tuple[str, str]]:
    """``(rule name, expression)`` for every recording and alert rule."""
    for record in RECORDS:
        yield record.record, record.expr
    for alert in ALERTS:
        yield alert.alert, alert.expr


def metric_names(expr: str) -> set[str]:
    """The metric names an expression selects (raises ``ValueError`` if it does not parse)."""
    names: set[str] = set()
    _walk(promql_parser.parse(substitute(expr)), names)
    return names


def _walk(node: Any, names: set[str]) -> None:
    if isinstance(node, promql_parser.VectorSelector):
        if node.name:
            names.add(node.name)
        return
    if isinstance(node, promql_parser.MatrixSelector):
        _walk(node.vector_selector, names)
        return
    for attribute in ("expr", "lhs", "rhs"):
        child = getattr(node, attribute, None)
        if isinstance(child, promql_parser.Expr):
            _walk(child, names)
    for argument in getattr(node, "args", None) or []:
        _walk(argument, names)


_SUFFIXES = ("_bucket", "_count", "_sum", "_total", "_created")


def exposed_families(exposition: str) -> set[str]:
    """Every sample name a ``/metrics`` text can have, from its ``# TYPE`` lines."""
    names: set[str] = set()
    for match in re.finditer(r"^# TYPE (\S+) (\S+)$", exposition, re.MULTILINE):
        family, kind = match.groups()
        names.add(family)
        if kind == "counter":
            names |= {family + "_total", family + "_created"}
        if kind == "histogram":
            names |= {family + suffix for suffix in _SUFFIXES if suffix != "_total"}
    return names
