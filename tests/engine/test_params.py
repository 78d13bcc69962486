"""Params: typed coercion with exact errors; secrets only from sources; values reach actions only as data."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops import redact
from ops.engine.model import Param
from ops.engine.params import SecretValue, resolve_params
from ops.engine.template import UNKNOWN, resolve
from ops.errors import InputError
from testing.workspace import Workspace
from tests.fakes.service import Service


def P(**kw: object) -> Param:
    return Param.model_validate({"help": "h", **kw})


@pytest.mark.parametrize("param, raw, message", [
    (P(type="integer", minimum=1, maximum=64), "0", "--x: 0 is below the minimum 1"),
    (P(type="integer"), "8.5", "--x: expected an integer, got '8.5'"),
    (P(type="number", maximum=1), "2", "--x: 2.0 is above the maximum 1"),
    (P(type="boolean"), "maybe", "--x: expected true or false, got 'maybe'"),
    (P(type="string", pattern="[A-Z_]+"), "jwt", "--x: 'jwt' does not match the pattern '[A-Z_]+'"),
    (P(type="string", choices=["a", "b"]), "c", "--x: 'c' is not one of a, b"),
    (P(type="secret"), "hunter2hunter2", "--x: give a source (env:NAME, stdin, file:PATH, generate), never the secret itself"),
    (P(type="secret"), "env:SURELY_NOT_SET_ANYWHERE", "--x: environment variable SURELY_NOT_SET_ANYWHERE is not set; export it or pick another source"),
    (P(type="string", required=True), None, "--x is required: h"),
])
def test_bad_values_get_exact_errors(param: Param, raw: object, message: str) -> None:
    with pytest.raises(InputError) as caught:
        resolve_params({"x": param}, {"x": raw}, dry_run=False)
    assert str(caught.value) == message


def test_generated_secret_is_registered_and_shown_by_length(tmp_path: Path) -> None:
    values = resolve_params({"v": P(type="secret")}, {"v": "generate"}, dry_run=False)
    secret = values["v"]
    assert isinstance(secret, SecretValue) and len(secret.value) == 44  # 32 bytes, base64
    assert secret.shown() == "<secret: 44 chars from generate>"
    assert redact.redact(f"x{secret.value}y") == f"x{redact.MARKER}y"


def test_stdin_secret_is_not_consumed_by_a_dry_run() -> None:
    def explode() -> str:
        raise AssertionError("read stdin during a dry-run")

    assert resolve_params({"v": P(type="secret")}, {"v": "stdin"}, dry_run=True, stdin=explode)["v"] is UNKNOWN


def test_template_syntax_in_a_value_is_data_not_code() -> None:
    scope = {"params": {"name": "{{ target.token }}"}, "target": {"token": "SECRET"}}
    assert resolve("x-{{ params.name }}", scope) == "x-{{ target.token }}"
    assert resolve({"k": "{{ params.name }}"}, scope) == {"k": "{{ target.token }}"}


INJECT = """\
# yaml-language-server: $schema=../schemas/remediation.schema.json
name: inject
summary: Values with metacharacters must reach commands and URLs only as data.
symptoms: [tests]
params:
  key:
    type: string
    help: anything
steps:
  - name: echo
    action: run
    effect: write
    with: {argv: [python3, -c, "import sys, json; print(json.dumps(sys.argv[1:]))", "{{ params.key }}", "literal"]}
    undo: nothing
  - name: fetch
    action: http
    effect: read
    with: {url: "{{ target.worker_url }}/lookup", params: {key: "{{ params.key }}"}}
verify:
  checks:
    - name: up
      action: http
      with: {url: "{{ target.worker_url }}/health"}
undo:
  - name: nothing
    action: noop
    with: {reason: the echo changes nothing}
"""


@pytest.mark.parametrize("hostile", ["; rm -rf / #", "$(touch /tmp/pwned)", "../../etc/passwd", "a\nb", "{{ target.worker_url }}", "x&y=1 `id`"])
def test_hostile_params_reach_argv_and_urls_only_as_data(workspace: Workspace, service: Service, hostile: str) -> None:
    import json
    from urllib.parse import parse_qs, urlsplit

    workspace.add_spec(INJECT, "inject.yaml")
    done = workspace.inv("remediate.inject", "--json", "--key", hostile)  # `run` is never read-only: a real run
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    echo = next(r for r in result["records"] if r["name"] == "echo")
    assert echo["outputs"]["argv"][-2:] == [hostile, "literal"]
    assert json.loads(echo["outputs"]["stdout"]) == [hostile, "literal"]
    [(method, path)] = [(m, p) for m, p in service.state.requests if p.startswith("/lookup")]
    assert urlsplit(path).path == "/lookup" and parse_qs(urlsplit(path).query, keep_blank_values=True)["key"] == [hostile]


def test_a_required_secret_a_target_names_is_missing_only_where_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """fallback-providers' admin secret has no spec default; the AI target names env:ADMIN_SECRET. Unset, its
    diagnosis still runs the probes that do not send it."""
    from ops.engine.params import MissingSecret

    monkeypatch.delenv("ADMIN_SECRET_UNSET", raising=False)
    spec = {"admin_secret": P(type="secret", required=True, help="h")}
    got = resolve_params(spec, {"admin_secret": "env:ADMIN_SECRET_UNSET"}, dry_run=True,
                         origins={"admin_secret": "targets.toml:9: targets.t.params.x.admin_secret"})
    assert isinstance(got["admin_secret"], MissingSecret)
    with pytest.raises(InputError, match="ADMIN_SECRET_UNSET is not set"):  # given by a flag: an error at once
        resolve_params(spec, {"admin_secret": "env:ADMIN_SECRET_UNSET"}, dry_run=True)
