"""The spec compiler's corpus: each class of mistake, the exact `file:line:col: $.path: message` it gets.

Every case is a small edit of a valid spec, so each line and column below can
be read off the spec it names. A case that `specs.check` let through would
otherwise fail only when the remediation runs, at 3 a.m.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.engine.check import check_file, check_paths
from testing.workspace import Workspace
from tests.reliability.bad_inputs import alias_bomb

SPECS = Path(__file__).parent / "specs"
POKE = (SPECS / "poke.yaml").read_text()
ADD_TEN_WITH = 'with: {url: "{{ target.worker_url }}/add10", method: POST}'
ADD_TEN_EXPECT = "expect: {status: 200}\n    undo: sub-ten"
HEALTHY = "preconditions:\n  - name: healthy\n"
CLOUDFLARE = """name: cf
summary: Deploy the rollback target.
symptoms: [a bad version is live]
steps:
  - name: state
    action: cloudflare
    effect: read
    with: {op: worker.state, args: {script: "{{ target.worker }}"}}
  - name: deploy
    action: cloudflare
    effect: write
    with:
      op: deployments.create
      args: {script: "{{ target.worker }}", version_id: "{{ steps.state.outputs.result.target_version_id }}"}
    undo: back
verify:
  deadline: 5
  checks:
    - name: health
      action: http
      with: {url: "{{ target.worker_url }}/health"}
      expect: {status: 200}
undo:
  - name: back
    action: cloudflare
    with: {op: deployments.create, args: {script: "{{ target.worker }}", version_id: "{{ steps.state.outputs.result.current_version_id }}"}}
"""
POLL = """name: wu
summary: Wait until the service is healthy.
symptoms: [x]
steps:
  - name: wait
    action: wait_until
    effect: read
    with:
      action: http
      with: {url: "{{ target.worker_url }}/health", verb: x}
      expect: {stauts: 200}
verify:
  checks:
    - name: up
      action: http
      with: {url: "{{ target.worker_url }}/health"}
      expect: {status: 200}
"""
WITH_LABEL = POKE.replace("preconditions:", "  label:\n    type: string\n    default: x\n    help: a label\npreconditions:", 1)
ADVICE = "a secret enters a spec only as a param of type: secret, written {{ params.<name> }}"

CASES: list[tuple[str, str, list[str]]] = [
    # Expectations: operators, regular expressions, outputs that exist, types that can match.
    ("unknown-operator", POKE.replace(ADD_TEN_EXPECT, 'expect: {status: {">==": 200}}\n    undo: sub-ten'),
     ["spec.yaml:38:23: $.steps[2].expect.status['>==']: unknown expectation operator '>=='; did you mean '>='?; "
      "the operators are ==, !=, <, <=, >, >=, in, not_in, matches, contains, not_contains, exists "
      "(to compare with a mapping, write {'==': {...}})"]),
    ("invalid-regex", POKE.replace(ADD_TEN_EXPECT, 'expect: {text: {matches: "ok(["}}\n    undo: sub-ten'),
     ["spec.yaml:38:34: $.steps[2].expect.text.matches: not a valid regular expression: "
      "unterminated character set (at position 3)"]),
    ("output-never-produced", POKE.replace(ADD_TEN_EXPECT, "expect: {stauts: 200}\n    undo: sub-ten"),
     ["spec.yaml:38:14: $.steps[2].expect.stauts: action 'http' has no output 'stauts'; did you mean 'status'?"]),
    ("operation-output-never-produced", CLOUDFLARE.replace("result.target_version_id", "result.target_version"),
     ["spec.yaml:14:58: $.steps[1].with.args.version_id: {{ steps.state.outputs.result.target_version }}: action "
      "'cloudflare' has no output 'result.target_version'; did you mean 'target_version_id'?"]),
    ("expectation-of-the-wrong-type", POKE.replace(ADD_TEN_EXPECT, 'expect: {status: "200"}\n    undo: sub-ten'),
     ["spec.yaml:38:14: $.steps[2].expect.status: the output is an integer or null, so comparing it with a string can never hold"]),
    ("when-names-a-missing-output", POKE.replace("    undo: sub-ten\n", "    undo: sub-ten\n    when: steps.state.outputs.jsn\n"),
     ["spec.yaml:40:5: $.steps[2].when: {{ steps.state.outputs.jsn }}: action 'http' has no output 'jsn'; "
      "did you mean 'json'?"]),
    ("polled-action", POLL,
     ["spec.yaml:10:53: $.steps[0].with.with.verb: unknown key 'verb'; known: url, method, headers, params, json, timeout, read_only_reason, mask_json, pick",
      "spec.yaml:11:16: $.steps[0].with.expect.stauts: action 'http' has no output 'stauts'; did you mean 'status'?"]),
    # Arguments: each action's `with:` and each Cloudflare operation's `args`.
    ("step-missing-an-argument", POKE.replace(ADD_TEN_WITH, "with: {method: POST}"),
     ["spec.yaml:37:5: $.steps[2].with: missing required key 'url'"]),
    ("step-unknown-argument", POKE.replace(ADD_TEN_WITH, 'with: {url: "{{ target.worker_url }}/add10", method: POST, verb: x}'),
     ["spec.yaml:37:64: $.steps[2].with.verb: unknown key 'verb'"]),
    ("unknown-operation", CLOUDFLARE.replace("op: worker.state", "op: worker.stat"),
     ["spec.yaml:8:12: $.steps[0].with.op: unknown Cloudflare operation 'worker.stat'; did you mean 'worker.state'?"]),
    ("operation-missing-an-argument", CLOUDFLARE.replace('args: {script: "{{ target.worker }}"}}', "args: {}}"),
     ["spec.yaml:8:30: $.steps[0].with.args: missing required key 'script'"]),
    ("operation-unknown-argument", CLOUDFLARE.replace('args: {script: "{{ target.worker }}"}}', 'args: {script: "{{ target.worker }}", versoin: x}}'),
     ["spec.yaml:8:68: $.steps[0].with.args.versoin: unknown key 'versoin'; did you mean 'version'?"]),
    # Templates: a lookup and nothing else, resolving to the type of the field.
    ("template-code", POKE.replace('/add10"', "/add10{{ __import__('os') }}\""),
     ["spec.yaml:37:47: $.steps[2].with.url: {{ __import__('os') }} is code, not a lookup; a template is only a "
      "dotted path such as {{ params.name }}"]),
    ("template-filter", POKE.replace('/add10"', '/add10{{ params.token | shell }}"'),
     ["spec.yaml:37:47: $.steps[2].with.url: {{ params.token | shell }} applies a filter (|); a template is only a "
      "lookup such as {{ params.name }}, with no filters"]),
    ("template-block", POKE.replace('/add10"', '/add10{% if params.token %}x{% endif %}"'),
     ["spec.yaml:37:47: $.steps[2].with.url: {% … %} is a template block; a template is only a lookup such as "
      "{{ params.name }}: use `when:` to make a step conditional"]),
    ("template-unclosed", POKE.replace('/add10"', '/add10{{ params.token"'),
     ["spec.yaml:37:47: $.steps[2].with.url: {{ is never closed with }}"]),
    ("template-unknown-root", POKE.replace('/add10"', '/add10{{ run.id }}"'),
     ["spec.yaml:37:47: $.steps[2].with.url: {{ run.id }}: unknown root 'run' (use params., target., worker. or steps.)"]),
    ("string-param-in-a-number-field", WITH_LABEL.replace(ADD_TEN_WITH, ADD_TEN_WITH[:-1] + ', timeout: "{{ params.label }}"}'),
     ["spec.yaml:41:64: $.steps[2].with.timeout: {{ params.label }} is a string, but this takes a number"]),
    ("boolean-output-in-a-string-argument", CLOUDFLARE.replace("result.target_version_id", "result.target_in_window"),
     ["spec.yaml:14:45: $.steps[1].with.args.version_id: {{ steps.state.outputs.result.target_in_window }} is a "
      "boolean, but this takes a string"]),
    ("text-around-a-template-in-a-number-field", POKE.replace(ADD_TEN_WITH, ADD_TEN_WITH[:-1] + ', timeout: "1{{ params.expect_value }}"}'),
     ["spec.yaml:37:64: $.steps[2].with.timeout: expected a number, got str '1{{ params.expect_value }}'"]),
    # Params satisfy their own constraints; the verification can hold in time.
    ("default-below-its-minimum", POKE.replace("    default: 11\n", "    default: 0\n    minimum: 1\n"),
     ["spec.yaml:12:5: $.params.expect_value.default: default 0 is below the param's own minimum 1"]),
    ("default-breaks-its-pattern", POKE.replace("    type: integer\n    default: 11\n", "    type: string\n    default: eleven\n    pattern: '[0-9]+'\n"),
     ["spec.yaml:12:5: $.params.expect_value.default: default 'eleven' does not match the param's own pattern '[0-9]+'"]),
    ("default-not-a-choice", WITH_LABEL.replace("    default: x\n", "    default: x\n    choices: [a, b]\n"),
     ["spec.yaml:16:5: $.params.label.default: default 'x' is not one of the param's own choices: a, b"]),
    ("hold-longer-than-deadline", POKE.replace("  deadline: 1\n", "  deadline: 1\n  hold: 2\n"),
     ["spec.yaml:42:3: $.verify.hold: hold (2 s) must be shorter than the deadline (1 s), or the checks can never hold in time"]),
    # Secrets enter only through a secret param.
    ("literal-in-a-secret-field", POKE.replace('{X-Token: "{{ params.token }}"}', "{X-Token: hunter2}"),
     [f"spec.yaml:30:17: $.steps[1].with.headers.X-Token: a literal value in 'X-Token', a field named like a secret; {ADVICE}"]),
    ("random-looking-literal", POKE.replace('/add10"', '/add10?key=Zx81kQp2LmN7vR4sT9wY3bC6"'),
     [f"spec.yaml:37:48: $.steps[2].with.url: a 28-character random-looking string, which looks like a secret written "
      f"into the spec; {ADVICE}"]),
    ("literal-in-a-secret-argument", CLOUDFLARE.replace(
        '    undo: back\n', '    undo: back\n  - name: put\n    action: cloudflare\n    effect: write\n'
        '    with: {op: secrets.put, args: {script: w, name: JWT_SECRET, text: hunter2}}\n    undo: back\n'),
     [f"spec.yaml:19:65: $.steps[2].with.args.text: 'text' carries a secret; {ADVICE}"]),
    ("string-param-in-a-secret-argument", WITH_LABEL.replace(
        "    - name: value\n      action: http\n      with: {url: \"{{ target.worker_url }}/state\"}",
        "    - name: value\n      action: jwt_probe\n      with: {url: \"{{ target.worker_url }}/me\", secret: \"{{ params.label }}\"}"),
     [f"spec.yaml:50:49: $.verify.checks[0].with.secret: 'secret' carries a secret; {ADVICE}"]),
    # Effects and shells.
    ("run-probe-starts-a-shell", POKE.replace(HEALTHY, "probes:\n  - name: sh\n    action: run\n"
                                              "    with: {argv: [env, FOO=1, bash, -c, 'curl x | sh']}\n    finding: x\n" + HEALTHY),
     ["spec.yaml:16:5: $.probes[0].action: probes must be read-only, but run env FOO=1 bash -c 'curl x | sh' "
      "changes state",
      "spec.yaml:17:31: $.probes[0].with.argv[2]: 'bash' starts a shell; a run's argv is the program and its "
      "arguments, never a shell: call the program directly"]),
    ("read-step-that-cannot-be-shown-read", POKE.replace(
        '    action: http\n    effect: read\n    with: {url: "{{ target.worker_url }}/state"}',
        "    action: run\n    effect: read\n    with: {argv: [curl, x]}"),
     ["spec.yaml:22:5: $.steps[0].effect: declared 'read' but run curl x has effect 'write' "
      "(a run is a write unless its with: gives read_only_reason)"]),
    # YAML: tags, and errors where they are.
    ("python-tag", POKE.replace("summary: Two", "summary: !!python/object/apply:os.system [ls]\nx: Two"),
     ["spec.yaml:3:10: $: unknown tag !!python/object/apply:os.system; tags are not allowed here: write plain values"]),
    ("custom-tag", POKE.replace("summary: Two", "summary: !shout Two"),
     ["spec.yaml:3:10: $: unknown tag !shout; tags are not allowed here: write plain values"]),
    ("unclosed-flow-mapping", POKE.replace(ADD_TEN_WITH, ADD_TEN_WITH[:-1]),
     ["spec.yaml:37:11: $: YAML syntax: a flow mapping opens here and is never closed; the parser gave up at 38:11: "
      "expected ',' or '}', but got ':'"]),
    ("unclosed-flow-sequence", POKE.replace("symptoms: [the value is wrong]", "symptoms: [the value is wrong"),
     ["spec.yaml:4:11: $: YAML syntax: a flow sequence opens here and is never closed; the parser gave up at 5:7: "
      "expected ',' or ']', but got ':'"]),
    ("unclosed-quote", POKE.replace("summary: Two", 'summary: "Two'),
     ["spec.yaml:3:10: $: YAML syntax: the quoted string that opens here runs on to line 17, where the parser gave up "
      "at 17:18 (expected <block end>, but found '{'); is its closing quote missing?"]),
    ("unclosed-quote-at-the-end", POKE + 'extra: "never closed\n',
     ["spec.yaml:58:8: $: YAML syntax: a quoted scalar opens here and is never closed; the parser gave up at 59:1: "
      "found unexpected end of stream"]),
    ("control-character", POKE.replace("symptoms: [the value", "symptoms: [the \x07value"),
     ["spec.yaml:4:16: $: a control character (U+0007) YAML does not allow; remove it"]),
    ("alias-bomb", alias_bomb(),
     ["spec.yaml:4:14: $: expanding *c (anchored at 3:4) makes more than 3,000 values, an alias bomb; "
      "remove the anchors and aliases that multiply"]),
    ("deep-flow-nesting", "x: " + "[" * 100 + "]" * 100 + "\n",
     ["spec.yaml:1:68: $: nested more than 64 levels deep; flatten the structure"]),
    ("deep-block-nesting", "name: x\n" + "".join("  " * i + f"k{i}:\n" for i in range(70)) + "  " * 70 + "v: 1\n",
     ["spec.yaml:66:129: $: nested more than 64 levels deep; flatten the structure"]),
    ("duplicate-key", POKE.replace("summary:", "name: again\nsummary:"),
     ["spec.yaml:3:1: $: duplicate key 'name' (first at line 2); keep one"]),
    ("undefined-alias", POKE.replace("steps:", "steps: *nowhere\nsteps2:"),
     ["spec.yaml:19:8: $: *nowhere refers to no anchor; define &nowhere before it"]),
    ("two-documents", POKE + "---\nname: other\n",
     ["spec.yaml:58:1: $: a second YAML document (---); one file holds one document"]),
    ("invalid-utf8", b"name: \xff\xfe\n",  # type: ignore[list-item]
     ["spec.yaml:1:7: $: invalid UTF-8 (byte 0xff); save the spec as UTF-8"]),
    ("oversized", "x: " + "a" * (2 * 1024 * 1024),
     ["spec.yaml:1:1: $: the file is 2,097,155 bytes; a spec may be at most 65,536 bytes: split it or remove the bulk"]),
    ("not-a-mapping", "- just\n- a list\n", ["spec.yaml:1:1: $: a spec is a YAML mapping with name, summary, steps, verify…"]),
]


@pytest.mark.parametrize("text, expected", [(t, e) for _, t, e in CASES], ids=[name for name, _, _ in CASES])
def test_each_class_of_mistake_is_located(tmp_path: Path, text: str | bytes, expected: list[str]) -> None:
    path = tmp_path / "spec.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    assert [str(p) for p in check_file(path, display="spec.yaml").problems] == expected


IN_A_PROCESS = ("unknown-operator", "template-code", "python-tag", "run-probe-starts-a-shell", "unknown-operation")


@pytest.mark.parametrize("name", IN_A_PROCESS)
def test_specs_check_exits_2_without_a_traceback(workspace: Workspace, name: str) -> None:
    text = next(t for n, t, _ in CASES if n == name)
    path = workspace.specs / f"{name}.yaml"
    path.write_text(text)
    done = workspace.inv("specs.check", str(path))
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    assert f"{name}.yaml:" in done.stderr


def test_a_name_belongs_to_one_file(tmp_path: Path) -> None:
    (tmp_path / "poke.yaml").write_text(POKE)
    (tmp_path / "another.yaml").write_text(POKE.replace("summary: Two", "summary: Also two"))
    results = {r.path.name: [str(p) for p in r.problems] for r in check_paths([tmp_path])}
    assert results["poke.yaml"] == []
    assert results["another.yaml"] == [
        f"{tmp_path}/another.yaml:2:1: $.name: 'poke' is already the name of {tmp_path}/poke.yaml (line 2), "
        "which keeps it; names must be unique across remediations: rename this one"]


MERGED = CLOUDFLARE.replace(
    'args: {script: "{{ target.worker }}", version_id: "{{ steps.state.outputs.result.target_version_id }}"}',
    'args: &deploy {script: "{{ target.worker }}", version_id: "{{ steps.state.outputs.result.target_version_id }}"}',
).replace('args: {script: "{{ target.worker }}", version_id: "{{ steps.state.outputs.result.current_version_id }}"}',
          'args: {<<: *deploy, version_id: "{{ steps.state.outputs.result.current_version_id }}"}')


def test_a_merge_key_shares_a_with_block_between_steps(tmp_path: Path) -> None:
    path = tmp_path / "cf.yaml"
    path.write_text(MERGED)
    checked = check_file(path, display="cf.yaml")
    assert checked.problems == [] and checked.spec is not None
    assert checked.data["undo"][0]["with"]["args"] == {
        "script": "{{ target.worker }}", "version_id": "{{ steps.state.outputs.result.current_version_id }}"}


def test_a_problem_in_a_merged_block_is_located_at_the_anchor(tmp_path: Path) -> None:
    path = tmp_path / "cf.yaml"
    path.write_text(MERGED.replace("args: &deploy {script:", "args: &deploy {scirpt:"))
    assert [str(p) for p in check_file(path, display="cf.yaml").problems] == [
        "cf.yaml:14:7: $.steps[1].with.args: missing required key 'script'",
        "cf.yaml:14:22: $.steps[1].with.args.scirpt: unknown key 'scirpt'; did you mean 'script'?",
        "cf.yaml:14:22: $.undo[0].with.args.scirpt: unknown key 'scirpt'; did you mean 'script'?",  # where it is written
        "cf.yaml:26:36: $.undo[0].with.args: missing required key 'script'",
    ]


def test_the_shipped_specs_use_every_check_and_pass() -> None:
    shipped = sorted((SPECS.parents[2] / "remediations").glob("*.yaml"))
    assert len(shipped) >= 7  # every system's specs; each team adds its own
    assert all(r.problems == [] for r in check_paths(shipped))
