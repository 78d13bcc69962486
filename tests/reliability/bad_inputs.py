"""The bad-input corpus: malformed specs, wrangler configs, key files and params.

Each case is (id, kind, content). Generated on the fly so that the 10 MB and
alias-bomb cases cost nothing in the repository.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

GOOD_SPEC = (Path(__file__).resolve().parents[1] / "engine" / "specs" / "poke.yaml").read_text()


def alias_bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


SPECS: list[tuple[str, str | bytes]] = [
    ("spec-alias-bomb", alias_bomb()),
    ("spec-10mb", "name: x\nsummary: " + "y" * (10 * 1024 * 1024) + "\n"),
    ("spec-binary-garbage", bytes(range(256)) * 64),
    ("spec-duplicate-keys", GOOD_SPEC.replace("summary:", "summary: one\nsummary:")),
    ("spec-tabs", "name: x\nsteps:\n\t- name: a\n"),
    ("spec-wrong-types", GOOD_SPEC.replace("deadline: 1", "deadline: [1, 2]")),
    ("spec-unknown-action", GOOD_SPEC.replace("action: http\n    effect: write", "action: htttp\n    effect: write", 1)),
    ("spec-deep-nesting", "name: x\nsummary: " + "[" * 5000 + "]" * 5000 + "\n"),
    ("spec-invalid-utf8", GOOD_SPEC.encode().replace(b"Two undoable", b"Two \xc3\x28undoable")),
    ("spec-empty", ""),
    ("spec-only-comments", "# nothing here\n"),
    ("spec-top-level-list", "- a\n- b\n"),
    ("spec-top-level-scalar", "just a string\n"),
    ("spec-unterminated-quote", 'name: "x\nsummary: y\n'),
    ("spec-unknown-key", GOOD_SPEC.replace("symptoms:", "symptomz:")),
    ("spec-missing-steps", GOOD_SPEC.split("steps:")[0] + "verify: {checks: [{name: a, action: http, with: {url: x}}]}\n"),
    ("spec-bad-param-type", GOOD_SPEC.replace("type: integer", "type: int")),
    ("spec-bad-pattern", GOOD_SPEC.replace("    type: integer\n", "    type: string\n    pattern: '[unclosed'\n").replace("default: 11", "default: '11'")),
    ("spec-write-without-undo", GOOD_SPEC.replace("    undo: sub-ten\n", "")),
    ("spec-undefined-undo", GOOD_SPEC.replace("undo: sub-ten", "undo: nowhere")),
    ("spec-unknown-param-ref", GOOD_SPEC.replace("{{ params.token }}", "{{ params.nope }}")),
    ("spec-later-step-ref", GOOD_SPEC.replace("{{ steps.state.outputs.json.version }}", "{{ steps.add-ten.outputs.status }}")),
    ("spec-destructive-without-reason", GOOD_SPEC.replace("effect: write\n    with: {url: \"{{ target.worker_url }}/add10\"", "effect: destructive\n    with: {url: \"{{ target.worker_url }}/add10\"")),
    ("spec-bad-name", GOOD_SPEC.replace("name: poke", "name: Poke Me")),
    ("spec-nul-bytes", GOOD_SPEC.replace("summary: Two", "summary: Two\x00")),
    ("spec-secret-literal-default", GOOD_SPEC.replace("default: env:TEST_TOKEN", "default: hunter2hunter2")),
    ("spec-reserved-param", GOOD_SPEC.replace("  expect_value:", "  dry_run:\n    type: boolean\n    help: x\n  expect_value:")),
    ("spec-bad-yaml-anchor", GOOD_SPEC.replace("steps:", "steps: *nowhere\nsteps2:")),
    ("spec-1mb-flow-list", "name: x\nsummary: [" + ", ".join(["a"] * 333_000) + "]\n"),
    ("spec-python-tag", GOOD_SPEC.replace("summary: Two", "summary: !!python/object/apply:os.system [ls]\nx: Two")),
    ("spec-custom-tag", GOOD_SPEC.replace("summary: Two", "summary: !shout Two")),
    ("spec-control-character", GOOD_SPEC.replace("summary: Two", "summary: Two\x1b[31m")),
    ("spec-template-code", GOOD_SPEC.replace("{{ params.token }}", "{{ __import__('os').system('id') }}")),
    ("spec-template-filter", GOOD_SPEC.replace("{{ params.token }}", "{{ params.token | shell }}")),
    ("spec-unknown-operator", GOOD_SPEC.replace("expect: {status: 200}", "expect: {status: {'=~': 200}}", 1)),
    ("spec-literal-secret", GOOD_SPEC.replace('"{{ params.token }}"', "hunter2hunter2")),
    ("spec-run-shell", GOOD_SPEC.replace("preconditions:", "probes:\n  - {name: sh, action: run, finding: x, with: {argv: [sh, -c, id]}}\npreconditions:")),
]

CONFIGS: list[tuple[str, str | bytes]] = [
    ("wrangler.toml", 'name = "x"\n[vars\n'),
    ("wrangler.toml", 'name = "x"\nname = "y"\n'),
    ("wrangler.toml", "name = \"x\"\n" + "a = " + "[" * 2000 + "]" * 2000 + "\n"),
    ("wrangler.toml", bytes(range(256)) * 8),
    ("wrangler.toml", b'name = "\xff\xfe"\n'),
    ("wrangler.json", '{"name": "x", "main": }'),
    ("wrangler.json", '{"name": "x"'),
    ("wrangler.json", "[" * 100 + "]" * 100),
    ("wrangler.jsonc", '{\n  // fine\n  "name": "x", /* never closed\n}'),
    ("wrangler.jsonc", '{\n  "name": "x",\n  "vars": {"A": "unterminated\n}\n}'),
    ("wrangler.jsonc", ""),
    ("wrangler.json", "x" * (6 * 1024 * 1024)),
]

KEY_FILES: list[tuple[str, str | bytes]] = [
    ("keys-invalid-utf8", b"9780000000001\n97800\xff00002\n"),
    ("keys-binary-garbage", bytes(range(256)) * 16),
    ("keys-control-chars", "9780000000001\n978\x1b[31m0000002\n"),
    ("keys-too-long", "9780000000001\n" + "9" * 10_000 + "\n"),
    ("keys-empty", "# no keys\n\n"),
]

VALUE_FILES: list[tuple[str, str | bytes]] = [
    ("values-not-json", '{"key": "9780000000001", "value": "ok"}\n{"key": "9780000000002", value: oops}\n'),
    ("values-missing-value", '{"key": "9780000000001", "value": "ok"}\n{"key": "9780000000002"}\n'),
    ("values-invalid-utf8", b'{"key": "9780000000001", "value": "caf\xe9"}\n'),
    ("values-ttl-too-short", '{"key": "9780000000001", "value": "ok", "expiration_ttl": 5}\n'),
    ("values-array-line", '["9780000000001", "ok"]\n'),
]

PARAMS: list[tuple[str, list[str]]] = [
    ("param-not-an-integer", ["--expect-value", "eleven"]),
    ("param-float-for-integer", ["--expect-value", "1e9"]),
    ("param-secret-literal", ["--token", "hunter2hunter2"]),
    ("param-secret-env-missing", ["--token", "env:NOT_SET_ANYWHERE_42"]),
    ("param-secret-file-missing", ["--token", "file:/nonexistent/secret"]),
    ("param-secret-too-short", ["--token", "env:SHORT_SECRET"]),
]


def all_ids() -> Iterator[str]:
    for name, _ in SPECS + KEY_FILES + VALUE_FILES:
        yield name
    for name, _ in PARAMS:
        yield name
