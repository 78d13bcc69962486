"""The thresholds `inv diagnose` judges by are the target's, set as the runbook gives them, not fixed in a spec."""

from __future__ import annotations

import json

from testing.workspace import REPO, Workspace

# The fake Worker answers every GET with {"value": 0, ...}: a hit rate of 0 where the target says the field is `value`.
CACHE = ('remediations = ["cache-warm"]\n[targets.test.params.cache-warm]\n'
         'hit_rate_path = "/metrics"\nhit_rate_field = "value"\n')


def _hit_rate_finding(ws: Workspace, extra: str) -> tuple[int, dict[str, object]]:
    targets = ws.root / "targets.toml"
    targets.write_text(targets.read_text(encoding="utf-8") + CACHE + extra, encoding="utf-8")
    ws.add_spec(REPO / "remediations" / "cache-warm.yaml")
    done = ws.inv("diagnose", "--json")
    finding = next(f for f in json.loads(done.stdout)["findings"] if f["remediation"] == "cache-warm")
    return done.returncode, finding


def test_the_spec_default_calls_a_zero_hit_rate_a_symptom(workspace: Workspace) -> None:
    code, finding = _hit_rate_finding(workspace, "")
    assert (code, finding["status"]) == (1, "symptom") and "0.5" in str(finding["detail"])


def test_the_target_sets_the_level_its_runbook_calls_a_storm(workspace: Workspace) -> None:
    code, finding = _hit_rate_finding(workspace, "symptom_hit_rate = 0\n")
    assert (code, finding["status"]) == (0, "healthy")


def test_a_bad_threshold_in_the_target_is_named_with_its_line(workspace: Workspace) -> None:
    _, finding = _hit_rate_finding(workspace, 'symptom_hit_rate = "low"\n')
    assert finding["status"] == "broken-spec" and "symptom_hit_rate" in str(finding["detail"]), finding
    assert "targets.toml" in str(finding["detail"]), finding
