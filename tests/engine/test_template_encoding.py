"""Templates encoded for where they go (issue 24, point 8): a value in a URL is data, a header is one line,
and a missing secret stops the run before any request, with the message that names it."""

from __future__ import annotations

from typing import Any

import pytest

from ops.engine import template
from ops.engine.params import MissingSecret, SecretValue
from testing.workspace import Workspace
from tests.fakes.service import Service

TRICKY = "x/../y?z#w"
SCOPE: dict[str, Any] = {"target": {"worker_url": "http://w.test"},
                         "params": {"s": SecretValue(TRICKY, "env:S"), "key": TRICKY, "route": "/a/b?c=d",
                                    "gone": MissingSecret("--s: environment variable S is not set", "env:S")}}


@pytest.mark.parametrize("url, sent", [
    ("{{ target.worker_url }}/items/{{ params.s }}", "http://w.test/items/x%2F..%2Fy%3Fz%23w"),
    ("{{ target.worker_url }}{{ params.s }}", "http://w.test" + "x%2F..%2Fy%3Fz%23w"),  # a secret is always data
    ("{{ target.worker_url }}/items/{{ params.key }}", "http://w.test/items/x%2F..%2Fy%3Fz%23w"),
    ("{{ target.worker_url }}/q?k={{ params.key }}&n=1", "http://w.test/q?k=x%2F..%2Fy%3Fz%23w&n=1"),
    ("{{ target.worker_url }}{{ params.route }}", "http://w.test/a/b?c=d"),  # a route the target names, as written
    ("{{ target.worker_url }}", "http://w.test"),
])
def test_a_value_in_a_url_is_encoded_for_where_it_lands(url: str, sent: str) -> None:
    assert template.resolve({"url": url}, SCOPE, url_keys=frozenset({"url"})) == {"url": sent}


def test_outside_a_url_a_value_is_its_text_and_a_missing_secret_is_never_text() -> None:
    assert template.resolve({"h": "Bearer {{ params.key }}"}, SCOPE) == {"h": "Bearer " + TRICKY}
    resolved = template.resolve({"h": "Bearer {{ params.gone }}", "u": "{{ target.worker_url }}/{{ params.gone }}"},
                                SCOPE, url_keys=frozenset({"u"}))
    assert resolved == {"h": SCOPE["params"]["gone"], "u": SCOPE["params"]["gone"]}


SPEC = """\
name: enc
summary: encoding
symptoms: [none]
secret_sources: [env:ENC_SECRET]
params:
  s: {type: secret, default: "env:ENC_SECRET", help: a secret}
preconditions:
  - {name: alive, action: http, with: {url: "{{ target.worker_url }}/health"}}
steps:
  - name: send
    action: http
    effect: read
    with: {url: "{{ target.worker_url }}/items/{{ params.s }}", headers: {X-S: "v {{ params.s }}"}}
verify:
  checks:
    - {name: up, action: http, with: {url: "{{ target.worker_url }}/health"}}
"""


def test_a_secret_in_a_url_path_stays_one_segment(workspace: Workspace, service: Service) -> None:
    workspace.add_spec(SPEC, "enc.yaml")
    workspace.env["ENC_SECRET"] = TRICKY
    done = workspace.inv("remediate.enc")
    assert done.returncode == 0, done.stdout + done.stderr
    assert ("GET", "/items/x%2F..%2Fy%3Fz%23w") in service.state.requests
    assert not any(path.startswith("/y") for _, path in service.state.requests)


def test_a_missing_secret_stops_the_run_before_any_request_and_names_its_source(workspace: Workspace,
                                                                                service: Service) -> None:
    workspace.add_spec(SPEC, "enc.yaml")
    workspace.env.pop("ENC_SECRET", None)
    done = workspace.inv("remediate.enc")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "environment variable ENC_SECRET is not set" in done.stderr
    assert "MissingSecret" not in done.stdout + done.stderr
    assert service.state.requests == []  # not even the precondition's GET


def test_a_header_value_with_a_line_break_is_refused_before_it_is_sent(workspace: Workspace,
                                                                       service: Service) -> None:
    workspace.add_spec(SPEC, "enc.yaml")
    workspace.env["ENC_SECRET"] = "abcd\r\nX-Injected: 1"
    done = workspace.inv("remediate.enc")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "the value of header 'X-S' holds a line break" in done.stdout + done.stderr
    assert not any(path.startswith("/items") for _, path in service.state.requests)
    assert all("x-injected" not in headers for headers in service.state.headers)
