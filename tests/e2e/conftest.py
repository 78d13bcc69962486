"""One whole sandbox (emulator, providers, the Worker on real workerd) for the end-to-end tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import CANARY, REPO


class Rehearsal:
    """Drives one remediation through break → dry-run → run → verified recovery.

    Every command's output, and the journal after it, is scanned for the canary
    that the session sandbox plants in its API token and the Worker's secrets.
    """

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.sb = handle.sandbox

    def inv(self, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO), *args],
                              capture_output=True, text=True, env={**self.handle.ops_env(), **(env or {})},
                              timeout=300, input=input, cwd=self.handle.home)
        assert CANARY not in done.stdout + done.stderr, f"a secret leaked in the output of inv {' '.join(args)}"
        for path in self.journal_files():
            assert CANARY not in path.read_text(encoding="utf-8"), f"a secret leaked into {path}"
        return done

    def requests(self) -> list[dict[str, Any]]:
        return list(httpx.get(f"{self.sb.emulator_url}/__emulator/requests", timeout=10).json())

    def mutating(self, since: int = 0) -> list[tuple[str, str]]:
        return [(r["method"], r["path"]) for r in self.requests()[since:] if r["mutating"]]

    def health(self) -> httpx.Response:
        return httpx.get(f"{self.sb.worker_url}/health", timeout=10)

    def state(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.sb.emulator_url}/__emulator/state", timeout=10).json())

    def reset(self) -> None:
        self.sb.reset()

    def journal_files(self) -> list[Path]:
        return sorted((self.handle.home / "journal").glob("*.jsonl"))


@pytest.fixture
def rehearse(sandbox: Any) -> Rehearsal:
    return Rehearsal(sandbox)
