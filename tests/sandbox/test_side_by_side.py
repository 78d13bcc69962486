"""Two sandboxes from two clones, one variable set differently, run side by side; both rehearse a rollback.

The first serves every example Worker, as the README's first command starts it; the second only the books
Worker (OPS_SANDBOX_WORKERS).

Each clone is this checkout's files as a fresh clone holds them (tracked, or new and not
ignored), committed into a repository of its own, with this checkout's node_modules
linked in and ops/ compiled as ./scripts/bootstrap compiles it. Everything runs as a user runs it: `inv` in the clone, on the clone's code.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ops.sandbox.ports import Ports

from testing.workspace import REPO

pytestmark = [pytest.mark.sandbox,
              pytest.mark.skipif(not (REPO / "node_modules" / ".bin" / "wrangler").exists(),
                                 reason="the npm parts are not installed (./scripts/bootstrap)")]
GIT = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]


def clone(dest: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True, timeout=60).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "a clone"]):
        subprocess.run([*GIT, *argv], cwd=dest, check=True, timeout=60, capture_output=True)
    (dest / "node_modules").symlink_to(REPO / "node_modules")
    subprocess.run([sys.executable, "-m", "compileall", "-q", "ops"], cwd=dest, check=True, timeout=60)  # as bootstrap
    with (dest / ".git" / "info" / "exclude").open("a", encoding="utf-8") as exclude:
        exclude.write("/node_modules\n")  # a link, which the clone's node_modules/ pattern (folders) does not cover
    return dest


def rehearse(root: Path, base: int, only: str = "") -> dict[str, object]:
    """up (``only``: the example Workers OPS_SANDBOX_WORKERS names), break, rollback, status, down in one clone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_")}
    env.update(OPS_SANDBOX_PORT_BASE=str(base), PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1")

    def inv(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(root), *args], cwd=root,
                              env={**env, **extra}, capture_output=True, text=True, timeout=240)

    said: dict[str, object] = {}
    try:
        for step, args in (("up", ("sandbox.up",)), ("break", ("sandbox.break", "bad-deploy")),
                           ("rollback", ("remediate.rollback", "--yes", "--json")), ("status", ("sandbox.status", "--json"))):
            # The variable for up alone: the commands after it serve what the running sandbox remembers.
            done = inv(*args, **({"OPS_SANDBOX_WORKERS": only} if step == "up" and only else {}))
            said[step] = done
            if done.returncode:
                break
    finally:
        said["down"] = inv("sandbox.down")
    said["git status"] = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True,
                                        timeout=60).stdout
    return said


def test_two_clones_with_different_port_bases_rehearse_a_rollback_side_by_side(tmp_path: Path) -> None:
    roots = [clone(tmp_path / name) for name in ("first", "second")]
    bases = [Ports.choose().base for _ in roots]  # each free, as a user would pick two
    served = ["", "books"]  # the first as the README's first command starts it (every example Worker)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(rehearse, roots, bases, served))
    for root, base, only, said in zip(roots, bases, served, results):
        for step in ("up", "break", "rollback", "status", "down"):
            done = said[step]
            assert isinstance(done, subprocess.CompletedProcess) and done.returncode == 0, (root, step, done)
        rollback, status = json.loads(said["rollback"].stdout), json.loads(said["status"].stdout)  # type: ignore[union-attr]
        assert rollback["status"] == "ok" and rollback["message"].startswith("verified:"), rollback
        assert status["api_base_url"] == f"http://127.0.0.1:{base}/client/v4" and status["port_base"] == base
        assert status["healthy"] and status["parts"]["worker"]["follows_control_plane"]
        assert list(status["parts"]["workers"]) == (["books"] if only else ["books", "plain", "ai", "manuscript", "infra"])
        assert said["git status"] == "", (root, said["git status"])  # the tracked files stay clean
