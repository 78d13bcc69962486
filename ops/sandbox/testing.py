"""A whole sandbox on free ports in a temporary folder, for tests and benchmarks."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

from ops.sandbox.manager import Ports, Sandbox

REPO = Path(__file__).resolve().parents[2]


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


class SandboxHandle:
    def __init__(self, home: Path | None = None, *, token: str | None = None, secrets: dict[str, str] | None = None) -> None:
        self.home = home or Path(tempfile.mkdtemp(prefix="cfw-sandbox-"))
        emulator, worker, a, b, c = free_ports(5)
        source = self.home / "books-worker"
        shutil.copytree(REPO / "examples" / "books-worker", source, ignore=shutil.ignore_patterns(".wrangler"))
        self.sandbox = Sandbox(REPO, self.home, Ports(emulator, worker, a, b, c), worker_src=source)
        if token is not None:
            self.sandbox.token = token
        if secrets is not None:
            self.sandbox.secrets = dict(secrets)
        self.sandbox.up()
        self.targets = self.sandbox.targets_file()

    def ops_env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_")}
        env.update({"OPS_TARGETS_FILE": str(self.targets), "OPS_JOURNAL_DIR": str(self.home / "journal"),
                    "OPS_REMEDIATIONS_DIR": str(REPO / "remediations"),
                    "OPS_CACHE_DIR": str(self.home / "cache"), **extra})
        return env

    def stop(self) -> None:
        self.sandbox.down()
        shutil.rmtree(self.home, ignore_errors=True)


def start_sandbox() -> SandboxHandle:
    return SandboxHandle()
