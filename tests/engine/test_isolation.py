"""Whatever lands in remediations/, the emergency rollback keeps working, without reading it.

Speed is measured in bench/, not here: what keeps the rollback at its normal speed is that it
opens no spec but its own, and that is what these tests pin, through Python's audit hooks. A
symlinked spec is opened at the path it points to (ops.documents.source resolves it first), so
the hook cannot see zero.yaml's; the catalog refuses a link out of the project without opening it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from testing.workspace import REPO, Workspace
from tests.reliability.bad_inputs import alias_bomb

ROLLBACK = (REPO / "remediations" / "rollback.yaml").read_text()

# Runs inv with an audit hook that records every file opened under the specs folder.
AUDITED = """
import os, runpy, sys
folder, log = os.environ["AUDIT_FOLDER"], os.environ["AUDIT_LOG"]
opened = []
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.abspath(os.fsdecode(args[0]))
        if path.startswith(folder + os.sep):
            opened.append(os.path.basename(path))
sys.addaudithook(hook)
import atexit
atexit.register(lambda: open(log, "w").write("\\n".join(opened)))
sys.argv = ["invoke", *sys.argv[1:]]
runpy.run_module("invoke", run_name="__main__")
"""


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


def _audited(ws: Workspace, *args: str) -> tuple[set[str], str, int]:
    log = ws.root / "opened.log"
    log.unlink(missing_ok=True)  # a run that writes none must not be read as the last run's
    env = {**ws.env, "AUDIT_FOLDER": str(ws.specs.resolve()), "AUDIT_LOG": str(log)}
    done = subprocess.run([sys.executable, "-c", AUDITED, "--search-root", str(REPO), *args],
                          capture_output=True, text=True, env=env, timeout=60, cwd=ws.root)
    assert log.exists(), done.stdout + done.stderr
    opened = set(log.read_text().split("\n")) - {""}
    return opened, done.stdout + done.stderr, done.returncode


def _rollback_dry_run(ws: Workspace) -> set[str]:
    opened, output, code = _audited(ws, "remediate.rollback", "--dry-run")
    # No Cloudflare here (the API is a closed port): the spec loads and runs as far as its first
    # precondition, which reads the live deployment and cannot tell.
    assert code == 3, output
    assert "precondition 'state' failed" in output and "could not tell" in output, output
    assert "Traceback" not in output
    return opened


def test_hostile_files_are_never_opened_by_the_rollback(workspace: Workspace) -> None:
    workspace.add_spec(ROLLBACK, "rollback.yaml")
    assert _rollback_dry_run(workspace) == {"rollback.yaml"}  # the first run reads and caches it
    _drop_hostile(workspace.specs)
    assert _rollback_dry_run(workspace) == {"rollback.yaml"}  # its own spec, read to run it, and nothing else
    opened, output, code = _audited(workspace, "--help", "remediate.rollback")
    assert code == 0 and "--accept-secret-changes" in output and "--dry-run" in output, output
    assert opened <= {"rollback.yaml"}
    # The hook does see them when they are read: listing every task reads every spec.
    listed, output, code = _audited(workspace, "--list")
    assert code == 0, output
    assert {"flow.yaml", "bomb.yaml", "deep.yaml", "rollback-v2.yaml"} <= listed, listed


def test_hostile_files_are_each_broken_and_rollback_is_not(workspace: Workspace) -> None:
    workspace.add_spec(ROLLBACK, "rollback.yaml")
    _drop_hostile(workspace.specs)
    done = workspace.inv("--list", timeout=30)
    listed, code = done.stdout + done.stderr, done.returncode
    assert code == 0, listed
    assert re.search(r"remediate\.rollback +Roll the Worker back", listed), listed
    for stem in ("zero", "flow", "bomb", "deep", "rollback-v2"):
        assert re.search(rf"remediate\.{stem} +BROKEN spec {stem}\.yaml", listed), listed
    ran = workspace.inv("remediate.rollback-v2")
    assert ran.returncode == 2
    assert ("remediations/rollback-v2.yaml:2:1: $.name: 'rollback' is already the name of "
            "remediations/rollback.yaml (line 2), which keeps it") in ran.stderr


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
    checked = workspace.inv("specs.check")
    assert checked.returncode == 2
    assert "Traceback" not in checked.stderr
    assert message in checked.stderr, checked.stderr
    assert "rollback.yaml:" not in checked.stderr.replace("rollback-v2.yaml:", "").replace("remediations/rollback.yaml, ", "")


def test_a_spec_in_a_file_of_another_name_is_still_found(workspace: Workspace) -> None:
    workspace.add_spec(ROLLBACK, "emergency.yaml")
    workspace.add_spec(ROLLBACK.replace("name: rollback", "name: rollback-too"), "rollback.yaml")
    assert workspace.inv("--list").returncode == 0  # fills the cache
    opened, output, code = _audited(workspace, "remediate.rollback", "--dry-run")
    # The spec that runs is found; it is read again only when its cached stat cannot be trusted (a racy mtime),
    # which depends on how fast the machine ran the --list, so only "nothing else is opened" is certain.
    assert opened <= {"emergency.yaml", "rollback.yaml"}
    assert code == 3 and "precondition 'state' failed" in output, output
