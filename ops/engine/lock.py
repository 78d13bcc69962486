"""One remediation at a time per target: an flock'd file that names its holder.

The kernel drops an flock when its process dies, so a lock left by a killed
run is never an obstacle; the holder file it left is reported as stale.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ops.errors import LockHeld

__all__ = ["TargetLock"]


@dataclass
class TargetLock:
    path: Path
    fd: int = -1
    stale: dict[str, Any] | None = None

    @classmethod
    def for_target(cls, folder: Path, target_name: str, worker: str) -> TargetLock:
        return cls(folder / "locks" / f"{target_name}--{worker}.lock")

    def acquire(self, remediation: str, run_id: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd)
            os.close(fd)
            raise LockHeld(_held_message(holder, self.path)) from None
        previous = _read(fd)
        if previous.get("pid") and previous.get("released") is not True:
            self.stale = previous
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({
            "remediation": remediation, "run": run_id, "pid": os.getpid(), "host": socket.gethostname(),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }).encode(), 0)
        self.fd = fd

    def release(self) -> None:
        if self.fd < 0:
            return
        holder = _read(self.fd)
        holder["released"] = True
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, json.dumps(holder).encode(), 0)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = -1


def _read(fd: int) -> dict[str, Any]:
    try:
        data = os.pread(fd, 65536, 0)
        value = json.loads(data or b"{}")
        return value if isinstance(value, dict) else {}
    except (OSError, ValueError):
        return {}


def _held_message(holder: dict[str, Any], path: Path) -> str:
    if not holder:
        return f"another remediation holds the lock {path}; wait for it to finish"
    return (f"{holder.get('remediation', '?')} (pid {holder.get('pid', '?')} on {holder.get('host', '?')}, "
            f"started {holder.get('started', '?')}, run {holder.get('run', '?')}) is already running against this "
            f"target; wait for it to finish, or follow it with `inv journal.show {holder.get('run', '')}`")
