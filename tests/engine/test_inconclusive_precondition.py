"""A precondition that cannot tell: `on_inconclusive: abort` stops the run (exit 3), whatever `on_fail` says."""

from __future__ import annotations

import json

import pytest

from testing.workspace import Workspace
from tests.fakes.service import Service

SPEC = """
name: bump
summary: One undoable write, unless the Worker is healthy.
symptoms: [the value is wrong]
params:
  force: {type: boolean, default: false, help: change it anyway}
preconditions:
  - name: healthy
    when: not params.force
    action: http
    with: {url: "{{ target.worker_url }}/health"}
    expect: {json.no_such_field: true}
    on_pass: noop
    on_fail: continue
    %s
    reason: the Worker is healthy, or its health cannot be told (use --force)
steps:
  - name: add-one
    action: http
    effect: write
    with: {url: "{{ target.worker_url }}/inc", method: POST}
    expect: {status: 200}
    undo: sub-one
verify:
  deadline: 1
  interval: 0.2
  checks:
    - name: value
      action: http
      with: {url: "{{ target.worker_url }}/state"}
      expect: {status: 200}
undo:
  - name: sub-one
    action: http
    with: {url: "{{ target.worker_url }}/dec", method: POST}
"""


@pytest.mark.parametrize(("setting", "status", "value"), [
    ("on_inconclusive: abort", "precondition-failed", 0),
    ("", "ok", 1),  # the default for on_fail: continue: no evidence either way, so the run goes on
])
def test_an_inconclusive_precondition_stops_the_run_only_when_it_says_so(workspace: Workspace, service: Service,
                                                                         setting: str, status: str, value: int) -> None:
    workspace.add_spec(SPEC % setting, "bump.yaml")
    done = workspace.inv("remediate.bump", "--json")
    result = json.loads(done.stdout)
    assert result["status"] == status, done.stdout
    assert service.state.value == value
    if value == 0:
        assert done.returncode == 3
        assert "precondition 'healthy' failed: the Worker is healthy, or its health cannot be told (use --force): " \
               "could not tell: json.no_such_field is missing from the answer" in result["message"]


def test_force_skips_the_inconclusive_precondition(workspace: Workspace, service: Service) -> None:
    workspace.add_spec(SPEC % "on_inconclusive: abort", "bump.yaml")
    done = workspace.inv("remediate.bump", "--force", "--json")
    assert json.loads(done.stdout)["status"] == "ok", done.stdout
    assert service.state.value == 1
