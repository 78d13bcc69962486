"""A dry-run wall specs cannot talk through: wrangler argv read as wrangler reads it, and `run` is a write.

The attack (issue 10, point 2): a step `action: wrangler, effect: read` with argv
`[deploy, --dry-run, "false"]` passed the checks, and its "dry-run" deployed.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from ops.actions.run import RunAction, RunArgs
from ops.actions.wrangler import WranglerAction, WranglerArgs, wrangler_effect
from ops.actions.wrangler_argv import parse, protect_values
from testing.workspace import Workspace
from tests.fakes.service import Service

# (argv, effect): how wrangler 4.86's yargs-parser reads each (see ops/actions/wrangler_argv.py).
CASES = [
    (["deploy", "--dry-run"], "read"),
    (["deploy", "--dry-run=true"], "read"),
    (["deploy", "--dry-run", "true"], "read"),
    (["deploy", "-c", "wrangler.toml", "--dry-run"], "read"),
    (["versions", "upload", "--dry-run"], "read"),
    (["deploy", "--dry-run", "false"], "write"),          # the attack: `false` is the boolean's value
    (["deploy", "--dry-run", "--no-dry-run"], "write"),   # negation, and the last one wins
    (["deploy", "--dry-run=false"], "write"),
    (["deploy", "--dry-run=0"], "write"),                 # a boolean is true only for "true"
    (["deploy", "--dryRun", "false"], "write"),           # camel-case expansion
    (["deploy", "--no-dryRun"], "write"),
    (["deploy", "--dry-run", "--dry-run"], "write"),      # repeated: an array, not surely true
    (["deploy", "--", "--dry-run"], "write"),             # after `--` it is a positional
    (["deploy", "--message", "--dry-run"], "write"),      # the value of --message, kept as data
    (["deploy"], "write"),
    (["rollback", "--yes"], "write"),
    (["tail"], "write"),                                  # creates a tail session
    (["versions", "list", "--json"], "read"),
    (["--config", "x.toml", "versions", "list"], "read"),
    (["deployments", "status"], "read"),
    (["secret", "list"], "read"),
    (["kv", "namespace", "list"], "read"),
    (["whoami"], "read"),
    (["versions", "list", "--unknown-flag"], "write"),    # not sure what it does: not read
    (["-abc", "versions", "list"], "write"),
    (["secret", "put", "X"], "write"),
    (["secret", "delete", "X"], "destructive"),
    (["kv", "key", "delete", "k"], "destructive"),
    (["queues", "purge", "q"], "destructive"),
    (["delete"], "destructive"),
]


@pytest.mark.parametrize("argv, effect", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_wrangler_effect_is_read_from_argv_as_wrangler_parses_it(argv: list[str], effect: str) -> None:
    assert wrangler_effect(argv) == effect
    assert WranglerAction().effect(WranglerArgs(argv=argv)) == effect


def test_a_value_that_starts_with_a_dash_stays_the_flags_value() -> None:
    assert protect_values(["deploy", "--message", "--dry-run", "--tag", "-x"]) == \
        ["deploy", "--message=--dry-run", "--tag=-x"]
    parsed = parse(protect_values(["deploy", "--message", "--dry-run"]))
    assert parsed.flags == {"message": ["--dry-run"]} and "dry-run" not in parsed.flags


def test_run_is_a_write_unless_the_spec_says_why_it_only_reads() -> None:
    action = RunAction()
    assert action.effect(RunArgs(argv=["true"])) == "write"
    args = RunArgs(argv=["git", "status"], read_only_reason="git status prints, changes nothing")
    assert action.effect(args) == "read"
    assert action.describe(args) == "run git status (read-only: git status prints, changes nothing)"


def _fake_wrangler(ws: Workspace) -> Path:
    """A `wrangler` that records each call: if it never runs, nothing could have been deployed."""
    calls = ws.root / "wrangler-calls.jsonl"
    script = ws.root / "node_modules" / ".bin" / "wrangler"
    script.parent.mkdir(parents=True)
    script.write_text(f"#!/usr/bin/env python3\nimport json, sys\n"
                      f"open({str(calls)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\nprint('{{}}')\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return calls


def _spec(step: str, params: str = "") -> str:
    return f"""\
name: wall
summary: A step that claims to only read.
symptoms: [tests]
{params}
steps:
{step}
verify:
  checks:
    - name: up
      action: http
      with: {{url: "{{{{ target.worker_url }}}}/health"}}
"""


WRANGLER_STEP = """\
  - name: look
    action: wrangler
    effect: read
    with: {{argv: {argv}}}
"""


@pytest.mark.parametrize("argv", ['[deploy, --dry-run, "false"]', "[deploy, --dry-run, --no-dry-run]",
                                  "[deploy, --dryRun=false]"])
def test_a_read_wrangler_step_that_would_deploy_never_runs(workspace: Workspace, service: Service, argv: str) -> None:
    calls = _fake_wrangler(workspace)
    workspace.add_spec(_spec(WRANGLER_STEP.format(argv=argv)), "wall.yaml")
    for extra in (["--dry-run"], ["--dry-run", "--json"], []):
        done = workspace.inv("remediate.wall", *extra)
        assert done.returncode == 2, done.stdout + done.stderr
        assert "has effect 'write'" in done.stderr
    assert not calls.exists()
    assert service.state.mutating() == []


def test_a_dry_run_flag_from_a_param_is_checked_once_resolved(workspace: Workspace, service: Service) -> None:
    calls = _fake_wrangler(workspace)
    params = "params:\n  check:\n    type: string\n    default: 'true'\n    help: the dry-run flag's value"
    workspace.add_spec(_spec(WRANGLER_STEP.format(argv='[deploy, --dry-run, "{{ params.check }}"]'), params), "wall.yaml")
    assert workspace.inv("remediate.wall", "--dry-run").returncode == 0
    assert [json.loads(line) for line in calls.read_text().splitlines()] == [["deploy", "--dry-run", "true"]]
    refused = workspace.inv("remediate.wall", "--dry-run", "--check", "false")
    assert refused.returncode != 0, refused.stdout
    assert "has effect 'write'" in refused.stdout + refused.stderr
    assert len(calls.read_text().splitlines()) == 1  # the `false` one never ran


def test_a_real_dry_run_deploy_may_run_in_a_plan(workspace: Workspace, service: Service) -> None:
    calls = _fake_wrangler(workspace)
    workspace.add_spec(_spec(WRANGLER_STEP.format(argv="[deploy, --dry-run, --outdir, dist]")), "wall.yaml")
    done = workspace.inv("remediate.wall", "--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(calls.read_text()) == ["deploy", "--dry-run", "--outdir", "dist"]


RUN_STEP = """\
  - name: look
    action: run
    effect: read
    with: {{argv: [python3, -c, "open('{marker}', 'w').write('ran')"]{reason}}}
"""


def test_run_declared_read_never_executes_in_a_dry_run(workspace: Workspace, service: Service) -> None:
    marker = workspace.root / "ran"
    workspace.add_spec(_spec(RUN_STEP.format(marker=marker, reason="")), "wall.yaml")
    done = workspace.inv("remediate.wall", "--dry-run")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "has effect 'write'" in done.stderr
    assert not marker.exists()


def test_run_with_a_read_only_reason_is_planned_never_run_and_the_plan_prints_the_reason(
        workspace: Workspace, service: Service) -> None:
    marker = workspace.root / "ran"
    reason = ", read_only_reason: 'touch only reads the clock'"
    workspace.add_spec(_spec(RUN_STEP.format(marker=marker, reason=reason)), "wall.yaml")
    done = workspace.inv("remediate.wall", "--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(read-only: touch only reads the clock)" in done.stdout
    assert not marker.exists()  # a declared reason is the author's word: a plan never starts a program


def test_diagnose_never_executes_a_run_probe(workspace: Workspace, service: Service) -> None:
    marker = workspace.root / "ran"
    workspace.add_spec(f"""\
name: probe-run
summary: A probe that runs a program.
symptoms: [tests]
probes:
  - name: sneaky
    action: run
    with: {{argv: [python3, -c, "open('{marker}', 'w').write('ran')"]}}
    finding: never
steps:
  - name: noop
    action: noop
    effect: read
    with: {{reason: nothing}}
verify:
  checks:
    - name: up
      action: http
      with: {{url: "{{{{ target.worker_url }}}}/health"}}
""", "probe-run.yaml")
    done = workspace.inv("diagnose", "--json")
    findings = json.loads(done.stdout)["findings"]
    assert [f["status"] for f in findings if f["remediation"] == "probe-run"] in (["broken-spec"], ["unknown"])
    assert not marker.exists()
    assert os.listdir(workspace.root).count("ran") == 0
