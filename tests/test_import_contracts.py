"""The import contracts in pyproject.toml ([tool.importlinter]) hold, and each one catches what it forbids."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from testing.workspace import REPO, TOOLS

LINT_IMPORTS = TOOLS / "lint-imports"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root), "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", str(REPO / "pyproject.toml")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_package_keeps_its_import_contracts() -> None:
    done = lint_imports(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 3 kept, 0 broken." in done.stdout


def test_each_contract_catches_its_violation(tmp_path: Path) -> None:
    shutil.copytree(REPO / "ops", tmp_path / "ops", ignore=shutil.ignore_patterns("__pycache__"))
    for package in ("testing", "tests"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("", encoding="utf-8")
    violations = {
        "ops/notify.py": "import ops.sandbox.constants\n",        # a product module imports the sandbox
        "ops/judge/expect.py": "import ops.engine.outcome\n",     # the judgement imports the engine above it
        "ops/sandbox/layout.py": "import ops.sandbox.manager\n",  # a circle inside the wing
        "ops/sandbox/ports.py": "import testing\n",               # the product imports the test harness
    }
    for path, line in violations.items():
        with (tmp_path / path).open("a", encoding="utf-8") as module:
            module.write(line)
    done = lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Contracts: 0 kept, 3 broken." in done.stdout
    for said in ("ops.notify -> ops.sandbox.constants", "ops.judge.expect -> ops.engine.outcome",
                 "No cycles are allowed in ops.sandbox", "ops.sandbox.ports -> testing"):
        assert said in done.stdout, done.stdout
