"""The `edit` action on each config format: only the edited values change, comments stay, undo restores."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.actions.base import Context
from ops.actions.edit import EditAction, EditArgs
from ops.errors import InputError
from ops.targets import Target

JSONC = """{
  // the cache; its id must exist in the account
  "name": "api-worker",
  "kv_namespaces": [
    { "binding": "CACHE", "id": "b0b0cafe000000000000000000000001" }, // keep me
  ],
  "vars": { "PROVIDER_ORDER": "google_books,openlibrary" /* inline */ },
}
"""
TOML = """# the Worker
name = "api-worker"

[vars]
PROVIDER_ORDER = "google_books,openlibrary"  # first wins

[[kv_namespaces]]
binding = "CACHE"
id = "b0b0cafe000000000000000000000001"  # keep me
"""


def edit(folder: Path, name: str, changes: dict) -> dict:
    target = Target("t", "http://127.0.0.1:9", "a" * 32, "api-worker", "http://127.0.0.1:9", "x", root=folder)
    return EditAction().run(EditArgs(file=name, set=changes), Context(target, dry_run=False))


@pytest.mark.parametrize("name, text", [("wrangler.jsonc", JSONC), ("wrangler.toml", TOML)])
def test_only_the_values_change_and_undo_restores(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text(text)
    changes = {"kv_namespaces.0.id": "c0ffee00000000000000000000000002", "vars.PROVIDER_ORDER": "openlibrary,google_books"}
    done = edit(tmp_path, name, changes)
    edited = (tmp_path / name).read_text()
    assert edited == text.replace("b0b0cafe000000000000000000000001", "c0ffee00000000000000000000000002").replace(
        "google_books,openlibrary", "openlibrary,google_books")
    assert done["previous"] == {"kv_namespaces.0.id": "b0b0cafe000000000000000000000001", "vars.PROVIDER_ORDER": "google_books,openlibrary"}
    edit(tmp_path, name, done["previous"])
    assert (tmp_path / name).read_text() == text


def test_a_json_config_does_not_grow_new_keys(tmp_path: Path) -> None:
    (tmp_path / "wrangler.json").write_text('{"name": "api-worker", "vars": {}}\n')
    with pytest.raises(InputError) as caught:
        edit(tmp_path, "wrangler.json", {"vars.PROVIDER_ORDER": "openlibrary"})
    assert str(caught.value).endswith("'vars.PROVIDER_ORDER' is not in the config; a JSON config can have values "
                                      "changed in place, not keys added: add it by hand")
    assert (tmp_path / "wrangler.json").read_text() == '{"name": "api-worker", "vars": {}}\n'


@pytest.mark.parametrize("name, text, message", [
    ("wrangler.jsonc", '{"vars": {"A": 1 "B": 2}}', "wrangler.jsonc:1:18: $.vars: expected ',' or '}'"),
    ("wrangler.toml", 'name = "w"\n[vars\n', "wrangler.toml:2:6: $: Expected ']' at the end of a table declaration; "
                                            "fix the TOML syntax"),
    ("config.yaml", "vars:\n  A: [1, 2\nname: w\n", "config.yaml:2:6: $: YAML syntax: a flow sequence opens here and is "
                                                    "never closed; the parser gave up at 3:5:"),
])
def test_a_broken_file_is_a_located_error_and_stays_as_it_was(tmp_path: Path, name: str, text: str, message: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(InputError) as caught:
        edit(tmp_path, name, {"vars.A": "x"})
    assert str(caught.value).replace(f"{tmp_path}/", "").startswith(message) and caught.value.exit_code == 2
    assert (tmp_path / name).read_text() == text
