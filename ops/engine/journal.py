"""The append-only journal: one JSONL file per run, one event per line, redacted.

Each event is flushed and fsynced before the engine goes on, and a mutating
step's `step-start` is written *before* the change is attempted, so no change
is ever made that the journal does not know about.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from ops.redact import redact_data

__all__ = ["Journal", "default_dir", "find_run", "list_runs", "new_run_id", "read_events"]


def default_dir() -> Path:
    env = os.environ.get("OPS_JOURNAL_DIR")
    if env:
        return Path(env)
    from ops.targets import find_targets_file

    return find_targets_file().parent / ".journal"


def new_run_id(spec_name: str) -> str:
    now = datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z-{spec_name}-{os.getpid()}"


@dataclass
class Journal:
    folder: Path
    run_id: str

    @property
    def path(self) -> Path:
        return self.folder / f"{self.run_id}.jsonl"

    def event(self, kind: str, **fields: Any) -> None:
        record = {"ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                  "mono": round(time.monotonic(), 3), "run": self.run_id, "event": kind, **fields}
        line = json.dumps(redact_data(record), default=str, sort_keys=False) + "\n"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                data = line.encode("utf-8")
                if os.write(fd, data) != len(data):
                    raise OSError(28, "short write")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            from ops.errors import JournalError

            raise JournalError(f"{self.path}: cannot write the journal: {exc.strerror or exc}") from None


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
        raise InputError(f"{folder}: {hint} {run!r}; `inv journal.show` lists them")
    return folder / f"{matches[0]}.jsonl"


def read_events(path: Path) -> Iterator[dict[str, Any]]:
    from ops.errors import InputError

    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                if line.endswith("\n"):
                    raise InputError(f"{path}:{number}:{exc.colno}: not a JSON event: {exc.msg}") from None
                return  # a torn final line from a crash mid-write: everything before it stands
