"""One remediation at a time per Worker: an flock'd file that names its holder.

The lock is keyed on the account and the Worker's name as Cloudflare knows it, so
two targets that name the same Worker share one lock. It lives in a folder this
tool creates for its user alone (0700) and is opened without following a symlink:
a planted link is refused, and its target is never truncated.

The kernel drops an flock when its process dies, so a lock left by a killed
run is never an obstacle; the holder file it left is reported as stale.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import socket
import stat
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ops.errors import JournalError, LockHeld
from ops.invoked import command

__all__ = ["TargetLock"]

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")  # targets validate Worker names; this guards the path anyway


@dataclass
class TargetLock:
    path: Path
    fd: int = -1
    stale: dict[str, Any] | None = None

    @classmethod
    def for_worker(cls, folder: Path, account_id: str, worker: str) -> TargetLock:
        """The lock of one Worker on one account, whatever the target that names it is called."""
        for part, what in ((account_id, "account id"), (worker, "Worker name")):
            if not part or not _SAFE.fullmatch(part):
                raise LockHeld(f"cannot lock: the {what} {part!r} is not a name Cloudflare gives; fix targets.toml")
        return cls(folder / "locks" / f"{account_id}--{worker}.lock")

    def acquire(self, remediation: str, run_id: str) -> None:
        fd = _open_private(self.path)
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


def _open_private(path: Path) -> int:
    """Open the lock file in a 0700 folder, never through a symlink (O_NOFOLLOW, and the folder checked)."""
    folder = path.parent
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
    except OSError as exc:
        raise JournalError(f"cannot make the lock folder {folder}: {exc.strerror or exc}") from None
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise LockHeld(f"refused: the lock folder {folder} is a symlink or not this user's folder; remove it, "
                       "and the next run makes it again (0700)")
    if info.st_mode & 0o077:
        os.chmod(folder, 0o700)
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LockHeld(f"refused: the lock file {path} is a symlink (planted?); remove it and retry") from None
        raise JournalError(f"cannot open the lock file {path}: {exc.strerror or exc}") from None


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
            f"target; wait for it to finish, or follow it with `{command('journal.show ' + str(holder.get('run', '')))}`")
