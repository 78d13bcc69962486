"""Notifications reach a real (loopback) webhook receiver in Slack-compatible JSON, and the URL never leaks."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from ops import notify, redact
from ops.engine.webhook import webhook_from
from ops.errors import InputError, TransportError
from testing.workspace import CANARY, Workspace
from tests.fakes.service import Service

HOOK_PATH = f"/services/T000/B000/{CANARY}-hook"

SPEC = """\
name: announce
summary: Post to the on-call channel, then poke the service.
symptoms: [nobody knows a remediation is running]
secret_sources: [env:OPS_NOTIFY_URL]
params:
  webhook: {type: secret, default: "env:OPS_NOTIFY_URL", help: The on-call channel's webhook}
steps:
  - name: tell
    action: notify
    effect: write
    with:
      webhook: "{{ params.webhook }}"
      event: run-start
      message: rolling back {{ target.worker }}
      fields: {spec: announce, target: "{{ target.name }}", status: started}
    expect: {delivered: true}
  - name: poke
    action: http
    effect: write
    with: {url: "{{ target.worker_url }}/inc", method: POST}
    undo: unpoke
undo:
  - name: unpoke
    action: http
    with: {url: "{{ target.worker_url }}/dec", method: POST}
verify:
  deadline: 5
  interval: 1
  checks:
    - name: poked
      action: http
      with: {url: "{{ target.worker_url }}/state"}
      expect: {json.value: 1}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_post_delivers_slack_compatible_json(service: Service) -> None:
    notify.post(service.url + HOOK_PATH, "run-end",
                {"spec": "rollback", "target": "production", "status": "ok", "exit_code": 0,
                 "message": "verified: /health 200 on version 7", "state_left": "changed: deployed version 7"})
    [(method, path)] = service.state.requests
    [body] = service.state.bodies
    assert (method, path) == ("POST", HOOK_PATH)
    assert body["text"] == "rollback ended ok on production (exit 0): verified: /health 200 on version 7"
    header, section, fields, context = body["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": "rollback ended ok on production (exit 0)"}}
    assert section["text"] == {"type": "mrkdwn", "text": "verified: /health 200 on version 7"}
    assert {"type": "mrkdwn", "text": "*state_left*\nchanged: deployed version 7"} in fields["fields"]
    assert context["type"] == "context"
    assert service.state.headers[0]["content-type"] == "application/json"


def test_a_secret_inside_the_summary_is_redacted_before_it_leaves(service: Service) -> None:
    redact.register(f"{CANARY}-jwt-value")
    notify.post(service.url + HOOK_PATH, "run-start", {"spec": "secret-rotation", "message": f"put {CANARY}-jwt-value"})
    assert CANARY not in json.dumps(service.state.bodies)


def test_limits_of_block_kit_are_kept() -> None:
    body = notify.payload("run-end", {"spec": "x" * 400, "message": "m" * 5000, **{f"k{i}": "v" * 3000 for i in range(15)}})
    header, section, fields, _ = body["blocks"]
    assert len(header["text"]["text"]) <= 150 and len(section["text"]["text"]) <= 3000
    assert len(fields["fields"]) == 10 and all(len(f["text"]) <= 2000 for f in fields["fields"])


@pytest.mark.parametrize("where", ["refused", "500"])
def test_a_failed_delivery_says_why_without_the_url(service: Service, where: str) -> None:
    base = f"http://127.0.0.1:{_free_port()}" if where == "refused" else service.url
    url = f"{base}{HOOK_PATH}" + ("?status=500" if where == "500" else "")
    with pytest.raises(TransportError) as caught:
        notify.post(url, "run-end", {"spec": "rollback"})
    assert CANARY not in str(caught.value) and base not in str(caught.value)
    assert ("did not answer (ConnectError)" if where == "refused" else "answered HTTP 500") in str(caught.value)
    reason = notify.post_quietly(url, "run-end", {"spec": "rollback"})
    assert reason is not None and CANARY not in reason


def test_a_run_notifies_and_the_url_is_nowhere_in_its_output_or_journal(workspace: Workspace, service: Service) -> None:
    workspace.add_spec(SPEC, "announce.yaml")
    workspace.env["OPS_NOTIFY_URL"] = service.url + HOOK_PATH
    plan = workspace.inv("remediate.announce", "--dry-run")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "notify the webhook: run-start" in plan.stdout and service.state.mutating() == []  # a plan never posts
    done = workspace.inv("remediate.announce", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert service.state.mutating() == [("POST", HOOK_PATH), ("POST", "/inc")]
    posted = service.state.bodies[[p for _, p in service.state.requests].index(HOOK_PATH)]
    assert posted["text"] == "announce started on test: rolling back api-worker"
    journal = "".join(p.read_text() for p in workspace.journal.glob("*.jsonl"))
    report = workspace.inv("incident.report", "latest")
    for output in (plan.stdout, plan.stderr, done.stdout, done.stderr, journal, report.stdout, report.stderr):
        assert CANARY not in output and HOOK_PATH not in output


def test_the_spec_language_knows_notify() -> None:
    from ops.actions import get

    action = get("notify")
    assert action is not None and action.effect(action.Args(webhook="http://x.example/hook")) == "write"


def test_a_setting_names_the_webhook_by_source_and_it_becomes_a_secret(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPS_NOTIFY_URL", f"https://hooks.example{HOOK_PATH}")
    webhook = webhook_from("env:OPS_NOTIFY_URL", where="targets.toml: targets.production.notify.webhook")
    assert str(webhook) == f"https://hooks.example{HOOK_PATH}" and redact.redact(str(webhook)) == redact.MARKER
    assert webhook.shown() == f"<secret: {len(str(webhook))} chars from env:OPS_NOTIFY_URL>"
    monkeypatch.setenv("OPS_NOTIFY_URL", "")
    assert webhook_from("env:OPS_NOTIFY_URL", where="x") is None  # notifications are optional
    (tmp_path / "hook").write_text(f"https://hooks.example{HOOK_PATH}-file\n")
    assert str(webhook_from(f"file:{tmp_path / 'hook'}", where="x")).endswith("-file")
    with pytest.raises(InputError, match="targets.toml: notify.webhook: write env:NAME or file:PATH"):
        webhook_from("https://hooks.example/T/B/x", where="targets.toml: notify.webhook")
