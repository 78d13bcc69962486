"""A value a precondition reads is carried, with its type, into a later step's and an undo's request body.

This is what an "undo restores what was read" remediation (fallback-providers) stands on.
"""

from __future__ import annotations

import json

from testing.workspace import Workspace
from tests.fakes.service import Service

SPEC = """
name: carry
summary: Change a setting, fail to verify, put back what was read.
symptoms: [a setting is wrong]
preconditions:
  - name: read
    action: http
    with: {url: "{{ target.worker_url }}/state"}
    expect: {status: 200}
steps:
  - name: change
    action: http
    effect: write
    with: {url: "{{ target.worker_url }}/change", method: POST, json: {was: "{{ steps.read.outputs.json.value }}"}}
    expect: {status: 200}
    undo: restore
verify:
  deadline: 0.5
  interval: 0.2
  checks:
    - name: never
      action: http
      with: {url: "{{ target.worker_url }}/state"}
      expect: {json.value: -1}
undo:
  - name: restore
    action: http
    after: [verify-failed]
    with:
      url: "{{ target.worker_url }}/restore"
      method: POST
      json: {value: "{{ steps.read.outputs.json.value }}", version: "{{ steps.read.outputs.json.version }}",
             note: "read {{ steps.read.outputs.json.value }}"}
    expect: {status: 200}
"""


def test_the_undo_puts_back_exactly_what_the_precondition_read(workspace: Workspace, service: Service) -> None:
    service.state.value, service.state.version = 41, "v7"
    workspace.add_spec(SPEC, "carry.yaml")
    done = workspace.inv("remediate.carry", "--json")
    result = json.loads(done.stdout)
    assert (done.returncode, result["status"], result["undone"]) == (1, "undone", ["change"]), done.stdout
    sent = dict(zip(service.state.requests, service.state.bodies))
    assert sent[("POST", "/change")] == {"was": 41}  # the number, not "41"
    assert sent[("POST", "/restore")] == {"value": 41, "version": "v7", "note": "read 41"}
