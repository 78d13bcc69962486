"""`cfw-remedy` (ops.cli.program): the task tree of tasks.py, with the same command-line rewriting, in any folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from testing.workspace import REPO, Workspace

SCRIPT = "import sys; sys.argv[0] = 'cfw-remedy'; from ops.cli.program import main; main()"


def cfw_remedy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_")}
    return subprocess.run([sys.executable, "-c", SCRIPT, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def test_version_is_the_packages(tmp_path: Path) -> None:
    shipped = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    done = cfw_remedy("--version", cwd=tmp_path)
    assert (done.returncode, done.stdout.strip()) == (0, f"cfw-remedy {shipped}")


def test_help_of_a_remediation_loads_it_by_name(tmp_path: Path) -> None:
    done = cfw_remedy("--help", "remediate.rollback", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: cfw-remedy [--core-opts] remediate.rollback") and "--accept-secret-changes" in done.stdout


def test_bare_paths_after_specs_check_are_rewritten_as_in_tasks_py(tmp_path: Path) -> None:
    (tmp_path / "remediations").mkdir()
    (tmp_path / "remediations" / "broken.yaml").write_text("name: broken\n", encoding="utf-8")
    done = cfw_remedy("specs.check", "remediations/broken.yaml", cwd=tmp_path)
    assert done.returncode == 2 and "broken.yaml" in done.stdout + done.stderr, done.stdout + done.stderr


def test_a_value_that_is_one_of_the_tasks_flags_is_data_as_under_inv(workspace: Workspace) -> None:
    shutil.copy(REPO / "remediations" / "rollback.yaml", workspace.specs / "rollback.yaml")
    for flag in (["--message", "--force"], ["--message=--force"], ["--message", "--"]):
        done = subprocess.run([sys.executable, "-c", SCRIPT, "remediate.rollback", "--dry-run", "--json", *flag],
                              cwd=workspace.root, env=workspace.env, capture_output=True, text=True, timeout=120)
        result = json.loads(done.stdout)
        assert result["params"]["message"] == flag[-1].removeprefix("--message=") and result["params"]["force"] is False
