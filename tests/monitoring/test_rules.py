"""The rules file passes ``promtool check rules`` and its unit tests (firing and not)."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bria_fleet_monitoring.generate import ROOT, RULES_PATH
from bria_fleet_monitoring.rules import ALERTS, RECORDS

TESTS = ROOT / "monitoring" / "rules-tests.yaml"
RUNBOOK = ROOT / "docs" / "runbook.md"


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is missing: run `make monitoring-tools` (Debian's prometheus)")
    return path


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *map(str, args)], capture_output=True, text=True, check=False, cwd=ROOT
    )


def test_promtool_check_rules_accepts_the_rules_file() -> None:
    result = run("check", "rules", RULES_PATH)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(RECORDS) + len(ALERTS)} rules found" in result.stdout


def test_promtool_unit_tests_pass() -> None:
    result = run("test", "rules", TESTS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_rule_is_unit_tested_and_every_alert_both_fires_and_stays_quiet() -> None:
    document = yaml.safe_load(TESTS.read_text())
    tested_exprs = " ".join(
        case["expr"] for test in document["tests"] for case in test.get("promql_expr_test", [])
    )
    for record in RECORDS:
        assert record.record in tested_exprs, f"recording rule {record.record} is not tested"
    cases = [case for test in document["tests"] for case in test.get("alert_rule_test", [])]
    for alert in ALERTS:
        mine = [case for case in cases if case["alertname"] == alert.alert]
        assert any(case["exp_alerts"] for case in mine), f"{alert.alert} never fires in a test"
        assert any(not case["exp_alerts"] for case in mine), f"{alert.alert} never stays quiet"


def test_every_alert_has_severity_summary_and_a_runbook_section() -> None:
    runbook = RUNBOOK.read_text()
    headings = {line[3:].strip().lower() for line in runbook.splitlines() if line.startswith("## ")}
    for group in yaml.safe_load(RULES_PATH.read_text())["groups"]:
        for rule in group["rules"]:
            if "alert" not in rule:
                continue
            assert rule["labels"]["severity"] in {"warning", "critical"}
            assert rule["annotations"]["summary"]
            assert rule["annotations"]["runbook_url"].endswith("#" + rule["alert"].lower())
            assert rule["alert"].lower() in headings, f"no runbook section for {rule['alert']}"
