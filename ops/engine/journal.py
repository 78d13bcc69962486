"""The append-only journal: one JSONL file per run, one event per line, redacted.

Each event is flushed and fsynced before the engine goes on, and a mutating
step's `step-start` is written *before* the change is attempted, so no change
is ever made that the journal does not know about.

The journal is the first thing that must work. Every event is one ``write`` of
one whole line, looped on short writes; a write that fails raises
``JournalError`` with the OS's reason, and what it left is cut off again, so the
file never ends in a torn line (and a reader skips one if even that failed).
Creating a run's file fsyncs the folder, so the file itself survives a crash.
When even the journal is impossible, ``unrecorded`` says so on stderr.
"""

from __future__ import annotations

import errno
import json
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from ops.errors import JournalError
from ops.invoked import command
from ops.redact import dumps, redact

__all__ = ["Journal", "current_run_id", "default_dir", "find_run", "list_runs", "new_run_id", "read_events",
           "unrecorded"]

EVENT_PREFIX = '{"ts": '  # every event line starts so; a line that does and will not parse is a torn write
_current_run: str | None = None


def default_dir() -> Path:
    """OPS_JOURNAL_DIR, or `.journal` beside targets.toml, which is never followed through a symlink."""
    env = os.environ.get("OPS_JOURNAL_DIR")
    if env:
        return Path(env)
    from ops.errors import InputError
    from ops.targets import find_targets_file

    folder = find_targets_file().parent / ".journal"
    if folder.is_symlink():
        raise InputError(f"{folder} is a symlink (to {os.readlink(folder)}): the journal is not written through "
                         f"a link someone could have planted; remove it, or name it: OPS_JOURNAL_DIR={folder}")
    return folder


def new_run_id(spec_name: str) -> str:
    now = datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z-{spec_name}-{os.getpid()}"


def current_run_id() -> str | None:
    """The run this process journals, if any (the crash log carries it in its name)."""
    return _current_run


@dataclass
class Journal:
    folder: Path
    run_id: str
    _created: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        global _current_run
        _current_run = self.run_id

    @property
    def path(self) -> Path:
        return self.folder / f"{self.run_id}.jsonl"

    def event(self, kind: str, **fields: Any) -> None:
        record = {"ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                  "mono": round(time.monotonic(), 3), "run": self.run_id, "event": kind, **fields}
        line = (dumps(record, sort_keys=False) + "\n").encode("utf-8")
        try:
            fd = self._open()
        except OSError as exc:
            raise JournalError(f"cannot open the journal {self.path}: {_why(exc)}") from None
        try:
            _append_line(fd, line)
        except OSError as exc:
            raise JournalError(f"cannot write the journal {self.path} (event {kind!r}): {_why(exc)}") from None
        finally:
            os.close(fd)

    def _open(self) -> int:
        flags = os.O_RDWR | os.O_APPEND | os.O_CLOEXEC | os.O_NOFOLLOW  # read: to see whether the last line is whole
        if self._created:
            return os.open(self.path, flags)
        fresh = not self.folder.exists()
        self.folder.mkdir(parents=True, exist_ok=True)
        if fresh:
            _fsync_dir(self.folder.parent)
        fd = os.open(self.path, flags | os.O_CREAT | os.O_EXCL, 0o600)
        _fsync_dir(self.folder)  # the new file's name reaches the disk with it
        self._created = True
        return fd


def _append_line(fd: int, line: bytes) -> None:
    """One line, whole or not at all: loop on short writes, fsync; on failure cut back what was written."""
    size = os.fstat(fd).st_size
    if size and os.pread(fd, 1, size - 1) != b"\n":
        line = b"\n" + line  # an earlier torn line that could not be cut off: end it, so this one stands alone
    view = memoryview(line)
    try:
        while view:
            written = os.write(fd, view)
            if written <= 0:
                raise OSError(errno.EIO, "the write made no progress")
            view = view[written:]
        os.fsync(fd)
    except OSError:
        try:
            os.ftruncate(fd, size)
        except OSError:
            pass  # the reader skips a torn last line
        raise


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _why(exc: OSError) -> str:
    code = errno.errorcode.get(exc.errno or 0, "")
    return f"{exc.strerror or exc} ({code or 'errno ' + str(exc.errno)})"


def unrecorded(state_left: str, reason: str) -> None:
    """Say on stderr what the journal could not record. Never raises: it is the last word."""
    text = redact(f"JOURNAL NOT WRITTEN: {reason}\nstate left: {state_left}\n"
                  "this message is the only record of the run's last steps; check the target by hand\n")
    try:
        data = text.encode("utf-8", "replace")
        while data:
            data = data[os.write(2, data):]
    except OSError:
        pass


def list_runs(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.jsonl"))


def find_run(folder: Path, run: str | None) -> Path:
    from ops.errors import InputError

    runs = list_runs(folder)
    if not runs:
        raise InputError(f"{folder}: no runs in the journal yet")
    if run in (None, "", "latest"):
        return folder / f"{runs[-1]}.jsonl"
    matches = [r for r in runs if r == run] or [r for r in runs if run and run in r]
    if len(matches) != 1:
        hint = "no run matches" if not matches else f"{len(matches)} runs match"
        raise InputError(f"{folder}: {hint} {run!r}; `{command('journal.list')}` lists them")
    return folder / f"{matches[0]}.jsonl"


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    from ops.errors import InputError

    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                if not line.endswith("\n") or line.startswith(EVENT_PREFIX):
                    continue  # a torn line from a crash or a failed write: everything else stands
                raise InputError(f"{path}:{number}:{exc.colno}: not a JSON event: {exc.msg}") from None
