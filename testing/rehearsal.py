"""A rehearsal on the sandbox: break, dry-run, run, verified recovery; every output and journal scanned for the canary.
The fixtures that hand one out are in tests/e2e/conftest.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from ops.sandbox import loopback
from ops.sandbox.constants import BOOKS, WorkerSpec

from testing.workspace import CANARY, REPO


class Rehearsal:
    """Drives one remediation through break → dry-run → run → verified recovery.

    Every command's output, and the journal after it, is scanned for the canary
    that the session sandbox plants in its API token and the Worker's secrets.
    """

    def __init__(self, handle: Any, worker: WorkerSpec = BOOKS) -> None:
        self.handle = handle
        self.sb = handle.sandbox
        self.worker = worker  # inv acts on its target (OPS_TARGET)

    @property
    def url(self) -> str:
        """The Worker through its recording proxy: what the target's worker_url is."""
        return str(self.sb.url_of(self.worker))

    def inv(self, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO), *args],
                              capture_output=True, text=True,
                              env={**self.handle.ops_env(OPS_TARGET=self.worker.target), **(env or {})},
                              timeout=300, input=input, cwd=self.handle.home)
        assert CANARY not in done.stdout + done.stderr, f"a secret leaked in the output of inv {' '.join(args)}"
        for path in self.journal_files():
            assert CANARY not in path.read_text(encoding="utf-8"), f"a secret leaked into {path}"
        return done

    def requests(self) -> list[dict[str, Any]]:
        return list(loopback.get(f"{self.sb.emulator_url}/__emulator/requests", headers=self.sb.admin_headers, timeout=10).json())

    def mutating(self, since: int = 0) -> list[tuple[str, str]]:
        return [(r["method"], r["path"]) for r in self.requests()[since:] if r["mutating"]]

    def health(self) -> httpx.Response:
        """The Worker's health path (/health for books, / for the plain Worker), through the proxy."""
        return loopback.get(f"{self.url}{self.worker.health_path}", timeout=10)

    def break_(self, scenario: str) -> str:
        return str(self.sb.break_(scenario, self.worker.key))

    def recovered(self, scenario: str) -> bool:
        """The sandbox's own check of a scenario's recovery (ops.sandbox.breaks), not the remediation's claim."""
        return bool(self.sb.recovered(scenario, self.worker.key))

    def analytics_lag(self, seconds: float) -> None:
        """Hide invocations younger than ``seconds`` from the GraphQL Analytics API (0 lifts it)."""
        self.handle.set_analytics_lag(seconds)

    def state(self) -> dict[str, Any]:
        return dict(loopback.get(f"{self.sb.emulator_url}/__emulator/state", headers=self.sb.admin_headers, timeout=10).json())

    def reset(self) -> None:
        self.sb.reset()

    def journal_files(self) -> list[Path]:
        return sorted((self.handle.home / "journal").glob("*.jsonl"))
