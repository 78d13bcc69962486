"""The tool installed as a team installs it in its Worker's repository: from this checkout, non-editable, into a fresh venv.

The wheel is built from a copy of the checkout's tracked and untracked-but-not-ignored
files; the venv reuses this venv's installed dependencies through a .pth, so no index
is asked. Used by tests/integration/test_worker_repo.py and the strangers' corpus
(testing/corpus.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without the tool's own variables and without this checkout on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPS_", "PYTHON", "VIRTUAL_ENV"))}
    return {**env, **extra}


def install(root: Path) -> Path:
    """A fresh venv under `root` with the tool installed from a copy of this checkout: its bin folder."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True,
                            text=True, check=True, timeout=60).stdout.split("\0")
    source = root / "cfw-remedy"
    for name in filter(None, listed):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             cwd=root, env=clean_env(), capture_output=True, text=True, check=True, timeout=60).stdout
    Path(purelib.strip(), "_cfw_remedy_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                           "--no-index", str(source)], cwd=root, env=clean_env(), capture_output=True, text=True,
                          timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(done.stdout + done.stderr + "\n(the build needs setuptools>=70.1 in this venv, from the "
                           "test extras: ./scripts/bootstrap)")
    return venv / "bin"
