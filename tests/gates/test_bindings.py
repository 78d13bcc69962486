"""The bindings gate: exact findings at the line where the offending key is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ops.documents.problem import DocumentError
from ops.gates.bindings import check
from ops.documents.config import load_config
from testing.workspace import Workspace

FIXTURES = Path(__file__).parent / "fixtures"


def findings(path: Path, **kw: object) -> list[tuple[str, str, int, str]]:
    return [(f.code, f.severity, f.line, f.env) for f in check(load_config(path), **kw).findings]  # type: ignore[arg-type]


def test_toml_envs_all_findings_at_their_lines() -> None:
    result = {(c, s, line, e) for c, s, line, e in findings(FIXTURES / "envs.toml", all_envs=True)}
    assert ("placeholder-id", "error", 15, "<top>") in result
    assert ("not-inherited", "warning", 24, "production") in result          # vars missing on [env.production]
    assert ("binding-not-inherited", "warning", 25, "production") in result  # SESSIONS missing on production
    assert ("shared-prod-staging-resource", "warning", 20, "staging") in result


def test_binding_not_inherited_names_the_key_and_the_binding() -> None:
    result = check(load_config(FIXTURES / "envs.toml"), env="production")
    messages = [f.message for f in result.findings]
    assert ('There is a kv_namespaces binding with name "SESSIONS" at the top level, but not on "env.production"; '
            'add it to "env.production.kv_namespaces"') in messages
    assert ('"vars" exists at the top level, but not on "env.production"; add "vars" to "env.production" '
            "(environments do not inherit it)") in messages


def test_jsonc_with_comments_and_trailing_commas() -> None:
    assert findings(FIXTURES / "app.jsonc") == [
        ("kv-id-not-hex", "error", 7, "<top>"),
        ("durable-object-without-migration", "warning", 9, "<top>"),
        ("queue-without-consumer", "warning", 10, "<top>"),
        ("duplicate-binding-name", "error", 12, "<top>"),
    ]


def test_unknown_env_is_an_error() -> None:
    [finding] = check(load_config(FIXTURES / "envs.toml"), env="prod").findings
    assert finding.code == "unknown-env"
    assert finding.message == "no environment 'prod' in the config (it has: production, staging); pick one of them with --env"


@pytest.mark.parametrize("name, text, message", [
    ("bad.toml", 'name = "x"\n[vars\n', "bad.toml:2:6: $: Expected ']' at the end of a table declaration; fix the TOML syntax"),
    ("open.toml", 'name = "x', "open.toml:1:10: $: Unterminated string at the end of the file; fix the TOML syntax"),
    ("bad.jsonc", '{\n  "name": "x",\n  "vars": { "A": 1 \n}', "bad.jsonc:4:2: $: expected ',' or '}'"),
    ("key.jsonc", '{"vars": {"A": tru}}', "key.jsonc:1:16: $.vars.A: unexpected 'tru': expected a value"),
    ("bad.json", '{"name": "x", /* open', "bad.json:1:15: $: a /* comment is never closed; close it with */"),
    ("empty.json", "", "empty.json:1:1: $: the wrangler config is empty; it must be a JSON object"),
    ("list.json", "[1, 2]", "list.json:1:1: $: a wrangler config is an object at the top level: wrap it in { }"),
    ("latin1.toml", b'name = "caf\xe9"\n', "latin1.toml:1:12: $: invalid UTF-8 (byte 0xe9); save the wrangler config as UTF-8"),
])
def test_unparseable_configs_name_line_and_column(tmp_path: Path, name: str, text: str | bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(DocumentError) as caught:
        load_config(path)
    assert str(caught.value).replace(str(tmp_path) + "/", "") == message


def test_cli_exit_codes_and_json(workspace: Workspace, tmp_path: Path) -> None:
    done = workspace.inv("check.bindings", "--config", str(FIXTURES / "envs.toml"), "--all-envs", "--format", "json")
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    assert doc["ok"] is False and {"severity", "code", "message", "file", "line", "env"} <= set(doc["findings"][0])
    good = tmp_path / "wrangler.toml"
    good.write_text('name = "ok-app"\nmain = "x.js"\ncompatibility_date = "2026-01-01"\n')
    assert workspace.inv("check.bindings", "--config", str(good)).returncode == 0
    broken = tmp_path / "broken.toml"
    broken.write_text("name = \n")
    bad = workspace.inv("check.bindings", "--config", str(broken))
    assert bad.returncode == 2 and "broken.toml" in bad.stderr and "Traceback" not in bad.stderr


def test_warnings_fail_only_with_strict(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "wrangler.toml"
    path.write_text('name = "q"\nmain = "x.js"\n[[queues.producers]]\nbinding = "Q"\nqueue = "jobs"\n')
    assert workspace.inv("check.bindings", "--config", str(path)).returncode == 0
    assert workspace.inv("check.bindings", "--config", str(path), "--strict").returncode == 1
