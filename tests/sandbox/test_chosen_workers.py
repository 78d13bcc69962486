"""OPS_SANDBOX_WORKERS: which example Workers this checkout's sandbox serves, remembered by a running sandbox."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ops.sandbox.constants import BOOKS, PLAIN, WORKERS
from ops.sandbox.manager import SERVED, WORKERS_VARIABLE, _chosen_examples

from testing.workspace import REPO


def test_the_variable_names_workers_in_its_order_else_the_running_sandbox_else_all(tmp_path: Path,
                                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WORKERS_VARIABLE, raising=False)
    assert _chosen_examples(tmp_path) == WORKERS
    (tmp_path / SERVED).write_text("plain", encoding="utf-8")
    assert _chosen_examples(tmp_path) == (PLAIN,)
    monkeypatch.setenv(WORKERS_VARIABLE, " plain, books,plain ")
    assert _chosen_examples(tmp_path) == (PLAIN, BOOKS)


def test_an_unknown_worker_is_a_located_error_with_exit_2(tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("OPS_")},
           WORKERS_VARIABLE: "books,bookz", "OPS_SANDBOX_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO), "sandbox.status"], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert ("OPS_SANDBOX_WORKERS=books,bookz: no example Worker 'bookz'; name some of books, plain, ai, manuscript, "
            "infra, comma-separated, or unset it to serve them all") in done.stderr
