"""A check that sends what an earlier check received (a login's session token), through the real `inv` CLI.

The fake is a loopback login service: POST /login with the right password returns a fresh
random token; GET /me answers 200 to the newest token and 401 to anything else.
"""

from __future__ import annotations

import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from ops.engine.check import check_file
from ops.sandbox.replies import send_json

from testing.workspace import CANARY, Workspace, make_workspace

PASSWORD = f"{CANARY}-password"


class LoginService:
    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.logins_allowed: int | None = None
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"null")
                service.requests.append(("POST", self.path))
                if service.logins_allowed is not None and len(service.tokens) >= service.logins_allowed:
                    send_json(self, 503, {"error": "down"})
                elif self.path == "/login" and body == {"email": "probe@example.test", "password": PASSWORD}:
                    service.tokens.append(f"tok{secrets.token_urlsafe(24)}")
                    send_json(self, 200, {"token": service.tokens[-1]})
                else:
                    send_json(self, 401, {"error": "wrong email or password"})

            def do_GET(self) -> None:
                service.requests.append(("GET", self.path))
                given = self.headers.get("authorization", "")
                fresh = bool(service.tokens) and given == f"Bearer {service.tokens[-1]}"
                send_json(self, 200 if fresh else 401, {"ok": fresh})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


SPEC = """\
name: relogin
summary: Log in before and after a no-op change; the fresh token works, the old one does not.
symptoms: [sessions]
secret_sources: [env:PROBE_PASSWORD]
params:
  password: {type: secret, default: "env:PROBE_PASSWORD", help: the probe user's password}
preconditions:
  - name: before
    action: http
    with: &login
      method: POST
      url: "{{ target.worker_url }}/login"
      json: {email: probe@example.test, password: "{{ params.password }}"}
      read_only_reason: a login issues a token and changes nothing
      mask_json: [token]
    expect: {status: 200}
steps:
  - name: change
    action: noop
    effect: read
    with: {reason: nothing to change}
verify:
  deadline: 3
  interval: 0.2
  checks:
    - name: login
      action: http
      with: *login
      expect: {status: 200}
    - name: fresh
      action: http
      with: {url: "{{ target.worker_url }}/me", headers: {Authorization: "Bearer {{ steps.login.outputs.json.token }}"}}
      expect: {status: 200}
    - name: old
      action: http
      with: {url: "{{ target.worker_url }}/me", headers: {Authorization: "Bearer {{ steps.before.outputs.json.token }}"}}
      expect: {status: 401}
"""


@pytest.fixture
def login() -> Iterator[LoginService]:
    service = LoginService()
    yield service
    service.stop()


@pytest.fixture
def ws(tmp_path: Path, login: LoginService) -> Workspace:
    workspace = make_workspace(tmp_path, login.url)
    workspace.env["PROBE_PASSWORD"] = PASSWORD
    workspace.add_spec(SPEC, "relogin.yaml")
    return workspace


def _everything(ws: Workspace, done: Any) -> str:
    return done.stdout + done.stderr + "".join(p.read_text() for p in ws.journal.glob("*.jsonl"))


def test_a_check_sends_the_token_an_earlier_check_received_and_the_tokens_are_masked(ws: Workspace, login: LoginService) -> None:
    done = ws.inv("remediate.relogin", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["message"] == "verified: login, fresh, old"
    assert len(login.tokens) >= 2
    shown = _everything(ws, done)
    assert not [t for t in login.tokens if t in shown]  # every session token masked, the journal included
    assert PASSWORD not in shown and "***REDACTED***" in shown


def test_a_plan_never_sends_a_post_that_reads_by_declaration(ws: Workspace, login: LoginService) -> None:
    done = ws.inv("remediate.relogin", "--dry-run")
    assert done.returncode == 0, done.stdout + done.stderr
    assert login.requests == []  # the login is known after apply; the checks using its token are planned
    assert "(read-only: a login issues a token and changes nothing)" in done.stdout
    assert "(known after apply)" in done.stdout
    assert "known after apply: POST " in done.stdout and "is never sent in a plan or a diagnosis" in done.stdout


def test_a_check_whose_source_saw_nothing_is_inconclusive_not_a_crash(ws: Workspace, login: LoginService) -> None:
    login.logins_allowed = 1  # the precondition's login works; every later one answers 503, with no token
    done = ws.inv("remediate.relogin", "--json", "--deadline", "1")
    outcome = json.loads(done.stdout)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    checks = {r["name"]: r for r in outcome["records"] if r["kind"] == "check"}
    assert checks["login"]["status"] == "failed"
    assert checks["fresh"]["status"] == "inconclusive"
    assert "{{ steps.login.outputs.json.token }} does not resolve" in checks["fresh"]["message"]


def test_a_check_may_use_only_earlier_checks(tmp_path: Path) -> None:
    swapped = SPEC.replace("- name: login", "- name: login-later").replace("steps.login.", "steps.login-later.")
    head, checks = swapped.split("  checks:\n")
    login_check, rest = checks.split("    - name: fresh")
    path = tmp_path / "relogin.yaml"
    path.write_text(head + "  checks:\n    - name: fresh" + rest + login_check)
    problems = [str(p) for p in check_file(path, display="relogin.yaml").problems]
    assert len(problems) == 1 and "check 'login-later' runs later in each poll; a check can use only earlier " \
                                   "checks' outputs" in problems[0], problems


def test_a_post_check_needs_a_reason_to_be_a_read(tmp_path: Path) -> None:
    path = tmp_path / "relogin.yaml"
    path.write_text(SPEC.replace("      read_only_reason: a login issues a token and changes nothing\n", ""))
    problems = [str(p) for p in check_file(path, display="relogin.yaml").problems]
    assert len(problems) == 2 and all("must be read-only, but POST" in p for p in problems), problems


def test_a_plan_skips_a_check_whose_condition_fails_without_resolving_what_it_would_send(ws: Workspace) -> None:
    spec = (SPEC.replace("  password: {type: secret", "  relogin: {type: boolean, default: false, help: log in first}\n"
                                                       "  password: {type: secret")
            .replace("  - name: before\n", "  - name: before\n    when: params.relogin\n")
            .replace("    - name: old\n", "    - name: old\n      when: params.relogin\n"))
    ws.add_spec(spec, "relogin.yaml")
    done = ws.inv("remediate.relogin", "--dry-run", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    records = {r["name"]: r for r in json.loads(done.stdout)["records"]}
    assert records["before"]["status"] == records["old"]["status"] == "skipped"
    assert records["fresh"]["status"] == "planned"
