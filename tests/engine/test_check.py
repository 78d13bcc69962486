"""Spec validation: every problem located as file:line:col: $.path: message, all in one pass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ops.engine.check import check_file
from testing.workspace import REPO, Workspace

SPECS = Path(__file__).parent / "specs"
GOOD = (SPECS / "poke.yaml").read_text()


def problems(tmp_path: Path, text: str | bytes) -> list[str]:
    path = tmp_path / "spec.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return [str(p).replace(str(path), "spec.yaml") for p in check_file(path).problems]


def test_shipped_and_test_specs_are_valid() -> None:
    for path in [*sorted((REPO / "remediations").glob("*.yaml")), *sorted(SPECS.glob("*.yaml"))]:
        assert check_file(path).problems == [], path


def test_tab_indentation_is_located(tmp_path: Path) -> None:
    [problem] = problems(tmp_path, "name: x\nsteps:\n\t- a\n")
    assert problem.startswith("spec.yaml:3:1: $: YAML syntax: ")


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    assert problems(tmp_path, GOOD.replace("symptoms:", "symptom:")) == [
        "spec.yaml:1:1: $: missing required key 'symptoms'",
        "spec.yaml:4:1: $.symptom: unknown key 'symptom'; did you mean 'symptoms'?",
    ]


def test_unknown_action_type_suggests_the_right_one(tmp_path: Path) -> None:
    text = GOOD.replace("  - name: add-ten\n    action: http", "  - name: add-ten\n    action: htpp")
    assert problems(tmp_path, text) == ["spec.yaml:35:5: $.steps[2].action: unknown action type 'htpp'; did you mean 'http'?"]


def test_wrong_type_is_located(tmp_path: Path) -> None:
    assert problems(tmp_path, GOOD.replace("deadline: 1", "deadline: soon")) == [
        "spec.yaml:41:3: $.verify.deadline: expected a number, got str 'soon'"]


def test_all_schema_problems_in_one_pass(tmp_path: Path) -> None:
    text = GOOD.replace("deadline: 1", "deadline: soon").replace("type: integer", "type: int")
    assert [p.split(": ", 1)[0] for p in problems(tmp_path, text)] == ["spec.yaml:11:5", "spec.yaml:41:3"]


def test_cross_references_are_checked(tmp_path: Path) -> None:
    text = (GOOD.replace("undo: sub-ten", "undo: sub-tne")
                .replace("{{ params.token }}", "{{ params.tokn }}")
                .replace("{{ steps.state.outputs.json.version }}", "{{ steps.add-ten.outputs.json }}"))
    assert problems(tmp_path, text) == [
        "spec.yaml:30:27: $.steps[1].with.headers.X-Token: {{ params.tokn }}: no param 'tokn'; did you mean 'token'?",
        "spec.yaml:31:21: $.steps[1].with.json.seen: {{ steps.add-ten.outputs.json }}: step 'add-ten' runs later; only earlier steps' outputs can be used",
        "spec.yaml:39:5: $.steps[2].undo: undo 'sub-tne' is not defined under `undo:`; did you mean 'sub-ten'?",
    ]


def test_effects_are_enforced(tmp_path: Path) -> None:
    text = GOOD.replace("    effect: write\n    with: {url: \"{{ target.worker_url }}/add10\"", "    effect: read\n    with: {url: \"{{ target.worker_url }}/add10\"")
    assert "declared 'read' but POST {{ target.worker_url }}/add10 has effect 'write'" in "\n".join(problems(tmp_path, text))


def test_broken_spec_does_not_take_down_the_others(workspace: Workspace) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    workspace.add_spec(GOOD.replace("name: poke", "name: broken").replace("deadline: 1", "deadline: soon"), "broken.yaml")
    listed = workspace.inv("--list")
    assert listed.returncode == 0
    assert "remediate.poke" in listed.stdout
    assert re.search(r"remediate\.broken +BROKEN spec broken\.yaml: run `inv specs\.check`", listed.stdout)
    ran = workspace.inv("remediate.broken")
    assert ran.returncode == 2
    assert "remediations/broken.yaml:41:3: $.verify.deadline: expected a number, got str 'soon'" in ran.stderr
    assert "Traceback" not in ran.stderr + ran.stdout
    assert workspace.inv("remediate.poke", "--dry-run").returncode == 0
    checked = workspace.inv("specs.check")
    assert checked.returncode == 2
    assert "remediations/broken.yaml:41:3: $.verify.deadline: expected a number, got str 'soon'" in checked.stderr
    assert "2 spec(s) checked: 1 invalid, 1 problem(s)" in checked.stdout


def test_changed_spec_is_never_served_stale(workspace: Workspace) -> None:
    spec = workspace.add_spec(SPECS / "poke.yaml")
    assert "remediate.poke" in workspace.inv("--list").stdout
    spec.write_text(GOOD.replace("deadline: 1", "deadline: soon"))
    assert "BROKEN" in workspace.inv("--list").stdout
    spec.write_text(GOOD)
    assert "BROKEN" not in workspace.inv("--list").stdout


def test_committed_schema_is_fresh() -> None:
    from ops.engine.schema import SCHEMA_PATH, render

    assert SCHEMA_PATH.read_text() == render(), "stale: run `inv specs.schema`"


def test_specs_are_checked_with_the_committed_schema_unless_a_model_is_newer(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from ops.engine import schema
    from ops.resources import PACKAGE

    copy = tmp_path / "remediation.schema.json"
    copy.write_text(schema.SCHEMA_PATH.read_text())
    monkeypatch.setattr(schema, "SCHEMA_PATH", copy)
    newest = max(p.stat().st_mtime for folder in ("engine", "actions") for p in (PACKAGE / folder).glob("*.py"))
    os.utime(copy, (newest + 1, newest + 1))
    assert schema._committed() == schema.generate()
    os.utime(copy, (newest - 1, newest - 1))  # a model edited since the file was written: generated instead
    assert schema._committed() is None


def test_schema_is_2020_12_with_id_and_descriptions() -> None:
    import json

    from ops.engine.schema import SCHEMA_PATH

    schema = json.loads(SCHEMA_PATH.read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith("remediation.schema.json")
    assert all("description" in prop for prop in schema["properties"].values() if "$ref" not in prop)


def test_shipped_specs_carry_the_schema_modeline() -> None:
    for path in sorted((REPO / "remediations").glob("*.yaml")):
        assert path.read_text().startswith("# yaml-language-server: $schema=../schemas/remediation.schema.json\n"), path


def test_help_before_the_task_lists_its_flags(workspace: Workspace) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    for argv in (("--help", "remediate.poke"), ("remediate.poke", "--help")):
        shown = workspace.inv(*argv)
        assert shown.returncode == 0, shown.stderr
        assert "--expect-value" in shown.stdout and "--dry-run" in shown.stdout, shown.stdout
        assert "Options: none" not in shown.stdout
