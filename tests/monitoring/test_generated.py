"""Generated dashboards and rules are current; their PromQL parses; panels are well-formed."""

import json
import subprocess
import sys

from bria_fleet_monitoring.generate import DASHBOARDS_DIR, ROOT
from bria_fleet_monitoring.promql import metric_names, panel_queries, rule_expressions


def test_the_generated_files_are_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bria_fleet_monitoring.generate", "--check"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "monitoring"), "PATH": ""},
    )
    assert result.returncode == 0, result.stderr


def test_every_expression_parses_and_selects_a_metric() -> None:
    expressions = [expr for *_, expr in panel_queries()] + [e for _, e in rule_expressions()]
    assert len(expressions) > 30
    for expr in expressions:
        assert metric_names(expr), expr


def test_every_panel_has_a_unit_and_unique_non_empty_ref_ids() -> None:
    boards = [json.loads(path.read_text()) for path in sorted(DASHBOARDS_DIR.glob("*.json"))]
    assert {board["uid"] for board in boards} == {
        "bria-fleet-overview",
        "bria-fleet-api",
        "bria-fleet-operations",
        "bria-fleet-kafka",
    }
    for board in boards:
        assert board["schemaVersion"] >= 39  # Grafana 11
        variables = {variable["name"] for variable in board["templating"]["list"]}
        assert {"datasource", "namespace", "instance", "domain"} <= variables
        assert board["links"], "each dashboard links to the others"
        for panel in board["panels"]:
            if panel["type"] == "row":
                continue
            assert panel["fieldConfig"]["defaults"].get("unit"), panel["title"]
            ref_ids = [target["refId"] for target in panel["targets"]]
            assert all(ref_ids), panel["title"]
            assert len(set(ref_ids)) == len(ref_ids), panel["title"]


def test_a_bad_expression_is_caught() -> None:
    try:
        metric_names("sum(rate(foo[5m])")
    except ValueError:
        return
    raise AssertionError("an unbalanced expression parsed")
