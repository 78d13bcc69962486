"""A target's own settings: which remediations apply to its Worker, and its defaults for their flags."""

from __future__ import annotations

import json
import textwrap

from testing.workspace import Workspace

SPEC = textwrap.dedent("""\
    name: tune
    summary: Tune a setting (for the target-settings tests).
    symptoms: [untuned]
    params:
      queue:
        type: string
        default: jobs
        help: the queue
      batch:
        type: integer
        default: 10
        help: batch size
      replay:
        type: boolean
        default: false
        help: replay dead letters
    steps:
      - name: tune
        action: noop
        effect: read
        with: {reason: "tunes {{ params.queue }}"}
    verify:
      checks:
        - name: up
          action: http
          with: {url: "{{ target.worker_url }}/health"}
    """)


def _settings(ws: Workspace, extra: str) -> None:
    targets = ws.root / "targets.toml"
    targets.write_text(targets.read_text(encoding="utf-8") + extra, encoding="utf-8")
    ws.add_spec(SPEC, "tune.yaml")


def _params(ws: Workspace, *flags: str) -> dict[str, object]:
    result = ws.inv("remediate.tune", "--dry-run", "--json", *flags)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout)["params"])


def test_the_targets_defaults_fill_unset_flags_and_a_flag_wins(workspace: Workspace) -> None:
    _settings(workspace, '\n[targets.test.params.tune]\nqueue = "analysis-queue"\nbatch = 25\nreplay = true\n')
    assert _params(workspace) == {"queue": "analysis-queue", "batch": 25, "replay": True}
    assert _params(workspace, "--queue", "other", "--batch", "3") == {"queue": "other", "batch": 3, "replay": True}


def test_a_remediation_left_out_of_the_targets_list_is_refused_with_where_to_add_it(workspace: Workspace) -> None:
    _settings(workspace, 'remediations = ["rollback"]\n')
    result = workspace.inv("remediate.tune", "--dry-run")
    assert result.returncode == 2
    assert "targets.toml:8: remediate.tune does not apply to target 'test' (its remediations: rollback)" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_param_in_the_targets_table_names_its_line_and_the_known_ones(workspace: Workspace) -> None:
    _settings(workspace, '\n[targets.test.params.tune]\nqueue = "q"\nbtach = 5\n')
    result = workspace.inv("remediate.tune", "--dry-run")
    assert result.returncode == 2
    assert ("targets.toml:11: targets.test.params.tune: remediate.tune has no param 'btach' "
            "(known: batch, queue, replay)") in result.stderr


def test_a_wrong_value_in_the_targets_table_names_its_line_and_a_flag_names_itself(workspace: Workspace) -> None:
    _settings(workspace, '\n[targets.test.params.tune]\nbatch = "many"\n')
    result = workspace.inv("remediate.tune", "--dry-run")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "targets.toml:10: targets.test.params.tune.batch: expected an integer, got 'many'" in result.stderr
    flagged = workspace.inv("remediate.tune", "--dry-run", "--batch", "lots")
    assert flagged.returncode == 2 and "--batch: expected an integer, got 'lots'" in flagged.stderr
    assert _params(workspace, "--batch", "4")["batch"] == 4  # a good flag replaces the bad line


def test_diagnose_runs_only_the_probes_of_the_targets_remediations(workspace: Workspace) -> None:
    probe = SPEC + "probes:\n  - name: up\n    action: http\n    finding: it answers\n    with: {url: \"{{ target.worker_url }}/health\"}\n"
    workspace.add_spec(probe.replace("name: tune", "name: other"), "other.yaml")
    _settings(workspace, 'remediations = ["tune"]\n')
    (workspace.specs / "tune.yaml").write_text(probe, encoding="utf-8")
    result = workspace.inv("diagnose", "--json")
    names = {f["remediation"] for f in json.loads(result.stdout)["findings"]}
    assert names == {"tune"}, result.stderr


def test_diagnose_names_a_bad_line_in_the_targets_table_and_runs_the_other_probes(workspace: Workspace) -> None:
    probed = SPEC.replace("\nsteps:", """
probes:
  - name: queue-known
    action: noop
    with: {reason: "looks at {{ params.queue }}"}
    finding: the queue is unknown
steps:""")
    assert "queue-known" in probed
    _settings(workspace, '\n[targets.test.params.tune]\nbatch = "many"\n')
    workspace.add_spec(probed, "tune.yaml")
    workspace.add_spec(probed.replace("name: tune", "name: other"), "other.yaml")
    result = workspace.inv("diagnose", "--json")
    findings = {f["remediation"]: f for f in json.loads(result.stdout)["findings"]}
    assert findings["tune"]["status"] == "broken-spec"
    assert "targets.toml:10: targets.test.params.tune.batch: expected an integer, got 'many'" in findings["tune"]["detail"]
    assert findings["other"]["status"] == "healthy", findings
