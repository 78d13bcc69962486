"""The sandbox's parts as detached processes: one process group each, a pid file and a log under the home."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

from ops.errors import SandboxError

__all__ = ["Processes"]


class Processes:
    def __init__(self, home: Path) -> None:
        self.home = home

    def log(self, part: str) -> Path:
        return self.home / "logs" / f"{part}.log"

    def pid(self, part: str) -> int | None:
        """The part's process, when it runs."""
        try:
            pid = int((self.home / "pids" / f"{part}.pid").read_text())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def known(self) -> list[str]:
        """Every part with a pid file, running or not."""
        return sorted(p.stem for p in (self.home / "pids").glob("*.pid"))

    def start(self, part: str, argv: list[str], ready: Callable[[], bool], *, env: dict[str, str], cwd: Path,
              timeout: float = 30) -> None:
        """Start the part and wait until ``ready``; a part that exits or stays unready is an error naming it."""
        (self.home / "pids").mkdir(parents=True, exist_ok=True)
        self.log(part).parent.mkdir(parents=True, exist_ok=True)
        with self.log(part).open("ab") as log:
            proc = subprocess.Popen(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, env=env)
        (self.home / "pids" / f"{part}.pid").write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SandboxError(f"the {part} exited with {proc.returncode} while starting; see {self.log(part)}")
            if ready():
                return
            time.sleep(0.2)
        raise SandboxError(f"the {part} did not become healthy within {timeout:.0f}s; see {self.log(part)}")

    def stop(self, *parts: str) -> None:
        """Stop parts together: SIGTERM to each process group, then SIGKILL to what is left after 5 s."""
        running = {part: pid for part in parts if (pid := self.pid(part)) is not None}
        for pid in running.values():
            try:
                os.killpg(pid, signal.SIGTERM)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(pid) for pid in running.values()):
            time.sleep(0.05)
        for pid in running.values():
            if _alive(pid):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
        for part in parts:
            (self.home / "pids" / f"{part}.pid").unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie of ours (started by this process) is gone for our purposes
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return True
