"""A whole sandbox on free ports (chosen as ``inv sandbox.up`` chooses them) in a temporary folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from ops.sandbox.constants import WorkerSpec
from ops.sandbox.manager import Sandbox
from ops.sandbox.ports import Ports

REPO = Path(__file__).resolve().parents[1]


class SandboxHandle:
    """Its own home, ports and copies of the example Workers (under home/workers/): the repo stays untouched.

    ``workers`` serves other Workers instead, e.g. a team's own (``ops.sandbox.own.own_worker``).
    """

    def __init__(self, home: Path | None = None, *, token: str | None = None, secrets: dict[str, str] | None = None,
                 other_secrets: dict[str, dict[str, str]] | None = None,
                 other_credentials: dict[str, dict[str, str]] | None = None,
                 workers: tuple[WorkerSpec, ...] | None = None) -> None:
        self.home = home or Path(tempfile.mkdtemp(prefix="cfw-sandbox-"))
        self.sandbox = Sandbox(REPO, self.home, Ports(Ports.choose().base))  # held: a reset never moves it
        if workers is not None:  # a lean sandbox: only these Workers (the emulator and providers always)
            self.sandbox.workers = workers
        self.sandbox.other_credentials = dict(other_credentials or {})
        if token is not None:
            self.sandbox.token = token
        if secrets is not None:
            self.sandbox.secrets = dict(secrets)
        self.sandbox.other_secrets = dict(other_secrets or {})
        self.sandbox.up()
        self.targets = self.sandbox.targets_file()

    def ops_env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_")}
        env.update({"OPS_TARGETS_FILE": str(self.targets), "OPS_JOURNAL_DIR": str(self.home / "journal"),
                    "OPS_REMEDIATIONS_DIR": str(REPO / "remediations"),
                    "OPS_CACHE_DIR": str(self.home / "cache"), **extra})
        return env

    def set_analytics_lag(self, seconds: float) -> None:
        """Make the GraphQL Analytics API hide invocations younger than ``seconds`` (0: none), as production's delay."""
        from ops.sandbox import loopback

        loopback.put(f"{self.sandbox.emulator_url}/__emulator/analytics", json={"lag_seconds": seconds},
                     headers=self.sandbox.admin_headers, timeout=10).raise_for_status()

    def stop(self) -> None:
        self.sandbox.down()
        shutil.rmtree(self.home, ignore_errors=True)


def start_sandbox() -> SandboxHandle:
    return SandboxHandle()
