"""Whatever lands in remediations/, the emergency rollback keeps working, and at its normal speed."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, Workspace
from tests.reliability.bad_inputs import alias_bomb

ROLLBACK = (REPO / "remediations" / "rollback.yaml").read_text()


HOSTILE: dict[str, str | None] = {
    "zero.yaml": None,  # a symlink to /dev/zero
    "flow.yaml": "name: flow\nsummary: [" + ", ".join(["a"] * 333_000) + "]\n",
    "bomb.yaml": alias_bomb(),
    "deep.yaml": "name: deep\nsummary: " + "[" * 20_000 + "]" * 20_000 + "\n",
    "rollback-v2.yaml": ROLLBACK.replace("summary: Roll", "summary: A second rollback that would shadow the first. Roll"),
}


def _drop_hostile(specs: Path) -> None:
    for name, text in HOSTILE.items():
        if text is None:
            os.symlink("/dev/zero", specs / name)
        else:
            (specs / name).write_text(text)


def _timed(ws: Workspace, *args: str) -> tuple[float, str, int]:
    started = time.perf_counter()
    done = ws.inv(*args)
    return time.perf_counter() - started, done.stdout + done.stderr, done.returncode


def _rollback_dry_run(ws: Workspace) -> float:
    elapsed, output, code = _timed(ws, "remediate.rollback", "--dry-run")
    # No Cloudflare here (the API is a closed port): the spec loads and runs as far as its first
    # precondition, which reads the live deployment and cannot tell.
    assert code == 3, output
    assert "precondition 'state' failed" in output and "could not tell" in output, output
    assert "Traceback" not in output
    return elapsed


def test_hostile_files_leave_rollback_working_at_its_normal_speed(workspace: Workspace) -> None:
    workspace.add_spec(ROLLBACK, "rollback.yaml")
    _rollback_dry_run(workspace)  # fills the catalog's cache
    normal = min(_rollback_dry_run(workspace) for _ in range(2))
    _drop_hostile(workspace.specs)
    hostile = _rollback_dry_run(workspace)
    assert hostile < normal + 1.0, f"{hostile:.2f}s with hostile files vs {normal:.2f}s without"
    helped, output, code = _timed(workspace, "--help", "remediate.rollback")
    assert code == 0 and "--accept-secret-changes" in output and "--dry-run" in output, output
    assert helped < normal + 1.0


def test_hostile_files_are_each_broken_and_rollback_is_not(workspace: Workspace) -> None:
    workspace.add_spec(ROLLBACK, "rollback.yaml")
    _drop_hostile(workspace.specs)
    elapsed, listed, code = _timed(workspace, "--list")
    assert code == 0, listed
    assert elapsed < 10
    assert re.search(r"remediate\.rollback +Roll the Worker back", listed), listed
    for stem in ("zero", "flow", "bomb", "deep", "rollback-v2"):
        assert re.search(rf"remediate\.{stem} +BROKEN spec {stem}\.yaml", listed), listed
    ran = workspace.inv("remediate.rollback-v2")
    assert ran.returncode == 2
    assert ("remediations/rollback-v2.yaml:2:1: $.name: 'rollback' is already the name of "
            "remediations/rollback.yaml, which keeps it") in ran.stderr


@pytest.mark.parametrize("name, message", [
    ("zero.yaml", "zero.yaml:1:1: $: a symlink to /dev/zero, outside the project"),
    ("flow.yaml", "flow.yaml:1:1: $: the file is 999,021 bytes; a spec may be at most 65,536 bytes"),
    ("bomb.yaml", "bomb.yaml:4:14: $: expanding *c (anchored at 3:4) makes more than 3,000 values, an alias bomb"),
    ("deep.yaml", "deep.yaml:2:74: $: nested more than 64 levels deep; flatten the structure"),
    ("rollback-v2.yaml", "remediations/rollback-v2.yaml:2:1: $.name: 'rollback' is already the name of "
                         "remediations/rollback.yaml (line 2)"),
])
def test_specs_check_names_each_hostile_file(workspace: Workspace, name: str, message: str) -> None:
    workspace.add_spec(ROLLBACK, "rollback.yaml")
    _drop_hostile(workspace.specs)
    started = time.process_time()
    checked = workspace.inv("specs.check")
    assert checked.returncode == 2
    assert "Traceback" not in checked.stderr
    assert message in checked.stderr, checked.stderr
    assert "rollback.yaml:" not in checked.stderr.replace("rollback-v2.yaml:", "").replace("remediations/rollback.yaml, ", "")
    assert time.process_time() - started < 5


def test_a_spec_in_a_file_of_another_name_is_still_found(workspace: Workspace) -> None:
    workspace.add_spec(ROLLBACK, "emergency.yaml")
    workspace.add_spec(ROLLBACK.replace("name: rollback", "name: rollback-too"), "rollback.yaml")
    assert workspace.inv("--list").returncode == 0  # fills the cache
    elapsed, output, code = _timed(workspace, "remediate.rollback", "--dry-run")
    assert code == 3 and "precondition 'state' failed" in output, output
