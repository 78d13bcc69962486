"""A target's own settings: which remediations apply to its Worker, and its defaults for their flags."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

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


def test_a_wrong_analytics_interval_names_its_line_and_the_range(workspace: Workspace) -> None:
    _settings(workspace, "analytics_interval = 0\n")
    result = workspace.inv("remediate.tune", "--dry-run")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "targets.toml:8: targets.test.analytics_interval: write the seconds between two reads of one analytics " \
           "window, from 1 to 300 (default 15)" in result.stderr


def test_a_run_reads_one_analytics_window_as_often_as_its_target_allows(tmp_path: Path) -> None:
    from ops.cloudflare import CloudflareClient
    from ops.cloudflare.analytics import recent
    from ops.targets import load_target

    base = ('[targets.{name}]\napi_base_url = "http://127.0.0.1:9"\naccount_id = "a"\ntoken = "public-token"\ntoken_is_public = true\n'
            'worker = "w"\nworker_url = "http://127.0.0.1:9"\n')
    file = tmp_path / "targets.toml"
    file.write_text(base.format(name="prod") + base.format(name="quick") + "analytics_interval = 2\n", encoding="utf-8")
    now = [0.0]
    reads: dict[str, int] = {}
    for name, expected in (("prod", 1), ("quick", 3)):  # reads at 0, 2.5 and 5 s: production's 15 s reuses the first
        client = CloudflareClient.from_target(load_target(name, path=file))
        client.retry.clock = lambda: now[0]
        for now[0] in (0.0, 2.5, 5.0):
            recent(client, "window", lambda: reads.update({name: reads.get(name, 0) + 1}) or {})
        assert reads[name] == expected, name
