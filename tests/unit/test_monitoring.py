"""The dashboard and alert rules that ship: the rules pass `promtool check rules`, every alert has a runbook
section, every dashboard panel queries something. (That every metric they name is exported by a service is
checked against the running platform: tests/e2e/test_metrics_exported.py.)"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "monitoring"


def alert_rules() -> list[dict[str, object]]:
    groups = yaml.safe_load((MONITORING / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_promtool_accepts_the_alert_rules() -> None:
    if shutil.which("promtool") is None:
        pytest.fail("this test needs promtool: apt-get install prometheus (.ci/run does)")
    checked = subprocess.run(
        ["promtool", "check", "rules", str(MONITORING / "alerts.yml")], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_alert_points_to_its_runbook_section() -> None:
    operations = (ROOT / "docs" / "operations.md").read_text()
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", title.lower()).replace(" ", "-")
        for title in re.findall(r"^## (.+)$", operations, re.M)
    }
    rules = alert_rules()
    assert len(rules) >= 8
    for rule in rules:
        annotations = rule["annotations"]
        assert isinstance(annotations, dict)
        page, _, anchor = str(annotations["runbook_url"]).partition("#")
        assert page == "docs/operations.md" and anchor in anchors, rule["alert"]


def test_every_dashboard_panel_queries_nooble4_metrics() -> None:
    dashboard = json.loads((MONITORING / "grafana" / "dashboards" / "nooble4.json").read_text())
    assert dashboard["uid"] and len(dashboard["panels"]) >= 12
    for panel in dashboard["panels"]:
        assert panel["targets"] and all("nooble4_" in target["expr"] for target in panel["targets"]), panel["title"]
