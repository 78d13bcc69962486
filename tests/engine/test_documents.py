"""ops.documents: what is read (regular files only), how much, and what YAML becomes."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from ops.documents.problem import DocumentError
from ops.documents.shape import INTEGER, STRING, array, check_value, mapping, nullable, record
from ops.documents.source import Source, read_text
from ops.documents.yaml import Budget, parse_yaml

BUDGET = Budget(max_bytes=1024, max_nodes=100, max_depth=8)


def _refused(path: Path, **kw: object) -> str:
    with pytest.raises(DocumentError) as raised:
        read_text(path, max_bytes=1024, what="spec", display="x.yaml", **kw)  # type: ignore[arg-type]
    return str(raised.value.problem)


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "project" / "remediations" / "x.yaml"
    fifo.parent.mkdir(parents=True)
    os.mkfifo(fifo)
    refused: list[str] = []
    reader = threading.Thread(target=lambda: refused.append(_refused(fifo)), daemon=True)
    reader.start()
    reader.join(30)
    if reader.is_alive():  # it opened the FIFO and waits for a writer: give it one, and fail
        os.close(os.open(fifo, os.O_WRONLY))
        pytest.fail("the FIFO was opened and blocked the reader")
    assert refused == ["x.yaml:1:1: $: not a regular file (a FIFO); a spec must be a plain file"]


def test_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").mkdir()
    assert _refused(tmp_path / "x.yaml") == "x.yaml:1:1: $: not a regular file (a directory); a spec must be a plain file"


def test_a_symlink_is_followed_only_inside_the_project(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "remediations").mkdir(parents=True)
    (project / "shared.yaml").write_text("name: shared\n")
    inside = project / "remediations" / "inside.yaml"
    inside.symlink_to(project / "shared.yaml")
    assert read_text(inside, max_bytes=1024, what="spec").text == "name: shared\n"
    (tmp_path / "elsewhere.yaml").write_text("name: elsewhere\n")
    outside = project / "remediations" / "outside.yaml"
    outside.symlink_to(tmp_path / "elsewhere.yaml")
    assert _refused(outside).startswith(f"x.yaml:1:1: $: a symlink to {tmp_path}/elsewhere.yaml, outside the project")
    loop = project / "remediations" / "loop.yaml"
    loop.symlink_to(loop)
    assert _refused(loop).startswith("x.yaml:1:1: $: cannot follow the symlink")


def test_the_byte_limit_is_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"a" * 1025)
    assert _refused(path) == "x.yaml:1:1: $: the file is 1,025 bytes; a spec may be at most 1,024 bytes: split it or remove the bulk"


@pytest.mark.parametrize("text, value", [
    ("x: yes", "yes"), ("x: 0o17", 15), ("x: 0x1f", 31), ("x: -.inf", float("-inf")), ("x: 1e3", 1000.0),
    ("x: ~", None), ("x: TRUE", True), ("x: '12'", "12"), ("x: !!str 12", "12"), ("x: !!float 2", 2.0),
    ("x: 2024-01-01", "2024-01-01"), ("x: !!int 12", 12),
])
def test_scalars_follow_the_yaml_1_2_core_schema(text: str, value: object) -> None:
    assert parse_yaml(Source("x.yaml", text), BUDGET).data == {"x": value}


@pytest.mark.parametrize("text, message", [
    ("x: !!int twelve", "x.yaml:1:4: $: !!int 'twelve' is not a valid int"),
    ("x: !!binary aGk=", "x.yaml:1:4: $: unknown tag !!binary; tags are not allowed here: write plain values"),
    ("? [a]\n: b", "x.yaml:1:3: $: a key must be a plain value, not a list or a mapping"),
    ("a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
     "x.yaml:2:33: $: expanding *a (anchored at 1:4) makes more than 100 values, an alias bomb; "
     "remove the anchors and aliases that multiply"),
    ("a: &a {b: {c: {d: 1}}}\nx: {y: {z: {w: {v: *a}}}}",
     "x.yaml:2:20: $: expanding *a (anchored at 1:4) nests more than 8 levels deep; flatten the structure"),
])
def test_what_yaml_may_not_hold(text: str, message: str) -> None:
    with pytest.raises(DocumentError) as raised:
        parse_yaml(Source("x.yaml", text), BUDGET)
    assert str(raised.value.problem) == message


def test_positions_of_keys_items_and_one_line_values() -> None:
    document = parse_yaml(Source("x.yaml", "a:\n  - {b: 'text'}\n"), BUDGET)
    assert document.positions[("a",)] == (1, 1)
    assert document.positions[("a", 0)] == (2, 5)
    assert document.positions[("a", 0, "b")] == (2, 6)
    assert document.scalars[("a", 0, "b")] == (2, 10)  # inside the quote


def test_a_value_is_checked_against_a_declared_shape() -> None:
    shape = record(name=STRING, count=INTEGER, tags=array(STRING), extra=nullable(mapping()))
    value = {"name": 1, "tags": ["a", 2], "nmae": "x", "extra": None}
    assert list(check_value(value, shape, ("with",), lambda text: None)) == [
        (("with", "name"), "expected a string, got an integer"),
        (("with", "tags", 1), "expected a string, got an integer"),
        (("with", "nmae"), "unknown key 'nmae'; did you mean 'name'?"),
        (("with",), "missing required key 'count'"),
    ]


def test_toml_positions_of_tables_arrays_of_tables_and_inline_members() -> None:
    from ops.documents.toml import parse_toml

    text = 'name = "w"\n[vars]\nA = "1"\n[[kv_namespaces]]\nbinding = "KV"\n[env.prod]\nkv_namespaces = [\n  { binding = "P", id = "x" },\n]\n'
    parsed = parse_toml(Source("w.toml", text))
    assert parsed.data["env"]["prod"]["kv_namespaces"] == [{"binding": "P", "id": "x"}]
    assert parsed.positions[("vars", "A")] == (3, 1)
    assert parsed.positions[("kv_namespaces", 0, "binding")] == (5, 1)
    assert parsed.positions[("env", "prod", "kv_namespaces", 0)] == (8, 3)
    assert parsed.positions[("env", "prod", "kv_namespaces", 0, "id")] == (8, 20)


def test_jsonc_keeps_positions_and_the_span_of_every_value() -> None:
    from ops.documents.jsonc import parse_jsonc

    text = '{\n  // the Worker\n  "name": "w", /* inline */\n  "vars": {"A": [1, 2,],},\n}'
    parsed = parse_jsonc(Source("w.jsonc", text))
    assert parsed.data == {"name": "w", "vars": {"A": [1, 2]}}
    assert parsed.positions[("vars", "A")] == (4, 12)
    start, end = parsed.spans[("vars", "A")]
    assert text[start:end] == "[1, 2,]"


@pytest.mark.parametrize("name, text, message", [
    ("t.toml", "a = 1\na = 2\n", "t.toml:2:6: $: Cannot overwrite a value; fix the TOML syntax"),
    ("t.json", '{"a": {"b": [1, }}', "t.json:1:17: $.a.b[1]: unexpected '}': expected a value"),
    ("t.json", '{"a": "x\n"}', 't.json:1:7: $.a: a string is never closed; close it with " on the same line'),
    ("t.json", "[" * 70, "t.json:1:66: $" + "[0]" * 65 + ": nested more than 64 levels deep; flatten the structure"),
])
def test_config_syntax_errors_are_located_problems(tmp_path: Path, name: str, text: str, message: str) -> None:
    from ops.documents.config import load_config

    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DocumentError) as raised:
        load_config(path, display=name)
    assert str(raised.value.problem) == message


def test_a_config_is_read_under_the_same_policy_as_a_spec(tmp_path: Path) -> None:
    from ops.documents.config import load_config

    fifo = tmp_path / "wrangler.toml"
    os.mkfifo(fifo)
    with pytest.raises(DocumentError) as raised:
        load_config(fifo, display="wrangler.toml")
    assert str(raised.value.problem) == ("wrangler.toml:1:1: $: not a regular file (a FIFO); "
                                         "a wrangler config must be a plain file")
    big = tmp_path / "big.json"
    big.write_bytes(b'{"a": "' + b"x" * 2048 + b'"}')
    with pytest.raises(DocumentError) as raised:
        load_config(big, max_bytes=1024, display="big.json")
    assert "a wrangler config may be at most 1,024 bytes" in str(raised.value.problem)
    bom = tmp_path / "bom.json"
    bom.write_bytes(b'\xef\xbb\xbf{"name": "w"}')  # wrangler reads a BOM'd config
    assert load_config(bom).data == {"name": "w"}


def test_merge_keys_merge_as_ruamel_yaml_does() -> None:
    text = "a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc: {<<: [*a, *b], w: 0}\nd: {x: 9, <<: *a}\ne: {<<: {q: 1}}\n"
    from ruamel.yaml import YAML

    assert parse_yaml(Source("x.yaml", text), BUDGET).data == YAML(typ="safe", pure=True).load(text)


def test_what_an_alias_or_a_merge_repeats_is_located_where_it_is_written() -> None:
    document = parse_yaml(Source("x.yaml", "a: &a\n  x: 1\n  y: {z: 2}\nb: {<<: *a, w: 0}\nc: *a\n"), BUDGET)
    assert document.positions[("b", "x")] == document.positions[("c", "x")] == (2, 3)
    assert document.positions[("b", "y", "z")] == (3, 7)
    assert document.positions[("b", "w")] == (4, 13)


@pytest.mark.parametrize("text, message", [
    ("a: &a 1\nc: {<<: *a}", "x.yaml:2:9: $: << merges a mapping (or a list of mappings), but this is a plain value; "
                             "point it at a mapping: <<: *defaults"),
    ("a: &a {x: 1}\nc: {<<: *a, <<: *a}", "x.yaml:2:13: $: a second merge key << (the first at line 2); "
                                          "merge several mappings with one: <<: [*a, *b]"),
    ("a: &a {k0: 0, k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9}\n"
     "b: &b {<<: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]}",
     "x.yaml:2:37: $: expanding *a (anchored at 1:4) makes more than 100 values, an alias bomb; "
     "remove the anchors and aliases that multiply"),
])
def test_a_merge_key_is_held_to_the_same_rules(text: str, message: str) -> None:
    with pytest.raises(DocumentError) as raised:
        parse_yaml(Source("x.yaml", text), BUDGET)
    assert str(raised.value.problem) == message


def test_an_inline_merge_inside_an_anchor_is_placed_only_where_its_keys_land() -> None:
    document = parse_yaml(Source("x.yaml", "a: &a\n  b: {<<: {q: 1}, r: 2}\nc: *a\n"), BUDGET)
    assert document.data["c"] == {"b": {"r": 2, "q": 1}}
    assert document.positions[("c", "b", "q")] == (2, 12)
    assert not [path for path in document.positions if "<<" in path]
