"""Each team's incident template as a target setting (`[targets.X.incident]`): severity names, the impact fields
it asks for, its root-cause prompt and its standing action items; a bad line is named with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.engine.incident import TEMPLATE_ACTION_ITEMS, incident_report
from ops.errors import InputError
from ops.targets import load_target

from tests.engine.test_incident import ANALYTICS, _rollback

BASE = ('[targets.t]\napi_base_url = "http://127.0.0.1:9"\naccount_id = "a"\ntoken = "tttttttt"\n'
        'worker = "w"\nworker_url = "http://127.0.0.1:9"\n')
TEMPLATE = '''[targets.t.incident]
severity_names = ["Critical", "High", "Medium", "Low"]
impact = ["Authors affected", "Manuscripts affected", "Uploads or analyses lost"]
root_cause = "which change or dependency failed, and why review and alerts missed it."
action_items = ["Add a regression test for the failing path", "File the D1 index in a migration"]
'''


def test_the_targets_template_shapes_the_report(tmp_path: Path) -> None:
    file = tmp_path / "targets.toml"
    file.write_text(BASE + TEMPLATE, encoding="utf-8")
    template = load_target("t", path=file).incident
    assert load_target("t", path=file).severity_names == template.severity_names == ("Critical", "High", "Medium", "Low")
    report = incident_report(_rollback(tmp_path / "j", "10:03:00.000", "10:04:00.000", "ok", analytics=ANALYTICS),
                             template=template)
    assert "- Severity: **Critical**" in report
    impact = report.split("## Impact", 1)[1].split("## Runs", 1)[0]
    assert "- Authors affected: _to be filled in_" in impact and "- Uploads or analyses lost: _to be filled in_" in impact
    assert "## Timeline (UTC)" in report
    assert "_To be filled in by the on-call engineer: which change or dependency failed, and why review" in report
    items = report.split("## Action items", 1)[1]
    assert "- [ ] Add a regression test for the failing path" in items and TEMPLATE_ACTION_ITEMS[0] not in items


def test_without_a_template_the_report_keeps_the_tools_own(tmp_path: Path) -> None:
    file = tmp_path / "targets.toml"
    file.write_text(BASE, encoding="utf-8")
    report = incident_report(_rollback(tmp_path / "j", "10:03:00.000", "10:04:00.000", "ok", analytics=ANALYTICS),
                             template=load_target("t", path=file).incident)
    assert "- Severity: **SEV1**" in report and f"- [ ] {TEMPLATE_ACTION_ITEMS[0]}" in report
    assert "_to be filled in_" not in report.split("## Impact", 1)[1].split("## Runs", 1)[0]


@pytest.mark.parametrize(("lines", "message"), [
    ('[targets.t.incident]\nimpact = "Authors"\n', r"targets.toml:\d+: targets.t.incident.impact: write a list"),
    ('[targets.t.incident]\nsections = []\n', r"targets.toml:\d+: targets.t.incident: unknown key 'sections'"),
    ('[targets.t.incident]\nseverity_names = ["A", "B"]\n', r"targets.toml:\d+: targets.t.incident.severity_names: "
                                                             "write four distinct names"),
    ('severity_names = ["P1", "P2", "P3", "P4"]\n[targets.t.incident]\nseverity_names = ["A", "B", "C", "D"]\n',
     r"targets.t.incident.severity_names: the target also sets severity_names"),
])
def test_a_bad_template_line_is_named(tmp_path: Path, lines: str, message: str) -> None:
    file = tmp_path / "targets.toml"
    file.write_text(BASE + lines, encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_target("t", path=file)
