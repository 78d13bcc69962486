"""Layer 1, wrangler's published schema: the shipped copy stays the pinned wrangler's, the schema follows the
wrangler the checked repository uses, and every schema finding lands at the line and column of its key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ops.gates.bindings import check
from ops.documents.config import load_config
from ops.gates.schema import SHIPPED, choose_schema, declared_wrangler, shipped_versions
from testing.workspace import REPO

PINNED = REPO / "node_modules" / "wrangler"


@pytest.mark.skipif(not (PINNED / "config-schema.json").is_file(), reason="npm wrangler is not installed (./scripts/bootstrap)")
def test_the_shipped_copy_is_the_pinned_wranglers_schema() -> None:
    version = json.loads((PINNED / "package.json").read_text())["version"]
    copy = SHIPPED / f"config-schema-{version}.json"
    assert copy.is_file(), f"no shipped schema for the pinned wrangler {version}: run scripts/refresh-wrangler-schema"
    assert copy.read_bytes() == (PINNED / "config-schema.json").read_bytes(), "run scripts/refresh-wrangler-schema"


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder / name


@pytest.mark.parametrize("name, text, version", [
    ("package-lock.json", '{"packages": {"node_modules/wrangler": {"version": "4.120.1"}}}', "4.120.1"),
    ("pnpm-lock.yaml", "packages:\n\n  wrangler@4.99.0:\n    resolution: {}\n", "4.99.0"),
    ("yarn.lock", 'wrangler@^4.90.0:\n  version "4.91.2"\n', "4.91.2"),
    ("package.json", '{"devDependencies": {"wrangler": "^4.164.0"}}', "4.164.0"),
])
def test_the_declared_wrangler_is_read_from_lockfile_or_package_json(tmp_path: Path, name: str, text: str, version: str) -> None:
    write(tmp_path / "app", name, text)
    config = write(tmp_path / "app" / "worker", "wrangler.toml", 'name = "x"\n')
    assert declared_wrangler(config.parent)[0] == version


def test_the_schema_follows_the_repository(tmp_path: Path) -> None:
    newest = list(shipped_versions())[-1]
    bare = write(tmp_path / "bare", "wrangler.toml", 'name = "x"\n')
    assert choose_schema(bare).note == f"wrangler {newest} (shipped schema; no wrangler declared for this config)"
    write(tmp_path / "old", "package.json", '{"dependencies": {"wrangler": "4.100.0"}}')
    old = choose_schema(write(tmp_path / "old", "wrangler.toml", 'name = "x"\n'))
    assert old.version == "4.86.0" and "declares 4.100.0, not installed" in old.note
    installed = tmp_path / "inst" / "node_modules" / "wrangler"
    write(installed, "package.json", '{"version": "4.200.0"}')
    write(installed, "config-schema.json", (SHIPPED / "config-schema-4.86.0.json").read_text())
    chosen = choose_schema(write(tmp_path / "inst", "wrangler.jsonc", "{}"))
    assert (chosen.version, chosen.path) == ("4.200.0", installed / "config-schema.json")


SAME = {  # one config in three syntaxes: a hyperdrive binding without its required id, and an unknown field
    "wrangler.toml": 'name = "x"\nmain = "i.js"\nlegacy_thing = 1\n\n[[hyperdrive]]\nbinding = "HD"\n',
    "wrangler.json": '{\n  "name": "x",\n  "main": "i.js",\n  "legacy_thing": 1,\n  "hyperdrive": [\n    {"binding": "HD"}\n  ]\n}\n',
    "wrangler.jsonc": '{\n  // c\n  "name": "x", "main": "i.js",\n  "legacy_thing": 1, /* c */\n  "hyperdrive": [\n\n    {"binding": "HD",},\n  ],\n}\n',
}


WHERE = {"wrangler.toml": [("unexpected-field", 3, 1), ("missing-required-field", 5, 1)],   # the key; the [[hyperdrive]] header
         "wrangler.json": [("unexpected-field", 4, 3), ("missing-required-field", 6, 5)],   # the key; the item's {
         "wrangler.jsonc": [("unexpected-field", 4, 3), ("missing-required-field", 7, 5)]}


@pytest.mark.parametrize("name", SAME)
def test_schema_findings_land_on_their_keys_in_every_syntax(tmp_path: Path, name: str) -> None:
    findings = check(load_config(write(tmp_path, name, SAME[name]))).findings
    assert [(f.code, f.line, f.col) for f in findings] == WHERE[name]
    assert [f.severity for f in findings] == ["warning", "error"]
    newest = list(shipped_versions())[-1]  # no wrangler declared in tmp_path: the newest shipped schema
    assert findings[1].message == f'"hyperdrive[0]" is missing the required "id" field (wrangler {newest} rejects it)'


def test_within_one_kind_a_name_bound_twice_is_an_error_at_the_second(tmp_path: Path) -> None:
    path = write(tmp_path, "wrangler.toml", 'name = "x"\n[[kv_namespaces]]\nbinding = "KV"\nid = "0123456789abcdef0123456789abcdef"\n'
                 '[[kv_namespaces]]\nbinding = "KV"\nid = "fedcba9876543210fedcba9876543210"\n')
    [dup] = [f for f in check(load_config(path)).findings if f.code == "duplicate-binding-name"]
    assert (dup.line, dup.col, dup.message) == (6, 1, "KV assigned to multiple KV Namespace bindings; binding names must be unique")


def test_unknown_fields_warn_and_required_fields_fail_in_each_env(tmp_path: Path) -> None:
    path = write(tmp_path, "wrangler.jsonc", '{"name": "x", "env": {"prod": {"name": "x-prod", "typo_field": true,\n'
                 '"hyperdrive": [{"binding": "HD"}], "vars": {}}}}')
    findings = check(load_config(path), env="prod").findings
    assert {(f.code, f.env, f.line) for f in findings} >= {("unexpected-field", "prod", 1), ("missing-required-field", "prod", 2)}
    assert check(load_config(path)).ok() is True  # the top level alone is valid


def test_without_any_schema_the_gate_still_runs_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ops.gates.schema as schema

    monkeypatch.setattr(schema, "SHIPPED", tmp_path / "nothing-shipped")  # an install without its package data
    path = write(tmp_path / "app", "wrangler.toml", 'name = "Bad Name"\nunknown = 1\n')
    result = check(load_config(path))
    assert [f.code for f in result.findings] == ["invalid-name"]  # layer 2 still runs, layer 1 cannot
    assert "schema checks skipped" in result.notes[0]
