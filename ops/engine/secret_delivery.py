"""`--save-value`: hand a generated secret to where its users need it, without ever printing it.

After `secret-rotation --value generate`, the new value exists only in the
Worker; a client that must send it (cache warming's `X-Cache-Warm-Secret`) is
locked out unless the value goes somewhere. Two destinations:

- ``file:PATH`` writes the value (and a newline) to PATH, created 0600 for this
  user, never through a symlink. It is written *before* the first change, so a
  run that dies half-way cannot leave a live value nobody knows.
- ``cmd:COMMAND ARGS`` runs COMMAND (an argv split as a shell would, but with no
  shell) with the value on its standard input, e.g. ``cmd:gh secret set
  CACHE_WARM_SECRET``. It runs *after* the run, only when the new value may be
  live, so a secret store never holds a value the Worker rejects.

Only values made by ``generate`` are delivered: a value read from env, a file or
stdin is already where it came from.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ops.engine.params import SecretValue
from ops.errors import InputError, OpsError
from ops.redact import redact

__all__ = ["DeliveryFailed", "SaveValue"]

FORMS = "file:PATH or cmd:COMMAND ARGS (e.g. cmd:gh secret set NAME)"
COMMAND_TIMEOUT = 60.0


class DeliveryFailed(OpsError):
    """The generated value could not be delivered; the message says where it is live and what to do."""


@dataclass(frozen=True)
class SaveValue:
    kind: str                # file | cmd
    path: Path | None
    argv: tuple[str, ...]
    secrets: Mapping[str, SecretValue]

    @classmethod
    def parse(cls, text: str, params: Mapping[str, Any]) -> SaveValue:
        """Check the destination before anything runs; bad input is exit 2 with what to write instead."""
        generated = {name: v for name, v in params.items() if isinstance(v, SecretValue) and v.source == "generate"}
        if not generated:
            raise InputError("--save-value delivers a generated secret: give a secret param the source `generate`")
        if len(generated) > 1:
            raise InputError(f"--save-value: {len(generated)} params are generated ({', '.join(generated)}); "
                             "generate one per run")
        kind, sep, rest = text.partition(":")
        if not sep or kind not in ("file", "cmd") or not rest.strip():
            raise InputError(f"--save-value: {text!r} is not a destination; write {FORMS}")
        if kind == "file":
            path = Path(rest).expanduser()
            if not path.parent.is_dir():
                raise InputError(f"--save-value: the folder {path.parent} does not exist; create it first")
            if path.is_symlink() or (path.exists() and not path.is_file()):
                raise InputError(f"--save-value: {path} is a symlink or not a regular file; name a plain file")
            return cls("file", path, (), generated)
        try:
            argv = tuple(shlex.split(rest))
        except ValueError as exc:
            raise InputError(f"--save-value: cannot split the command {rest!r}: {exc}") from None
        if not argv or shutil.which(argv[0]) is None:
            raise InputError(f"--save-value: {argv[0] if argv else rest!r} is not a program on PATH; install it "
                             "or give its full path")
        return cls("cmd", None, argv, generated)

    @property
    def _name(self) -> str:
        return "--" + next(iter(self.secrets)).replace("_", "-")

    def before_run(self) -> str | None:
        """A file is written before any change: a run that dies cannot leave a live value nobody has."""
        if self.kind != "file" or self.path is None:
            return None
        value = next(iter(self.secrets.values())).value
        try:
            _write_private(self.path, value + "\n")
        except OSError as exc:
            raise DeliveryFailed(f"--save-value: cannot write {self.path}: {exc.strerror or exc}; nothing was "
                                 "changed") from None
        return f"the new value of {self._name} is in {self.path} (mode 0600); it is live only if the run succeeds"

    def after_run(self, status: str, state_left: str) -> str | None:
        """A command is fed once the run is over and the value may be live (ok, or a change left in place)."""
        if self.kind != "cmd":
            return None
        if status != "ok" and not state_left.startswith("CHANGED"):
            return f"--save-value: not delivered to {self.argv[0]}: the new value is not live ({status})"
        value = next(iter(self.secrets.values())).value
        try:
            done = subprocess.run(list(self.argv), input=value, capture_output=True, text=True,  # noqa: S603
                                  timeout=COMMAND_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DeliveryFailed(f"--save-value: {self.argv[0]} failed: {exc}; the new value of {self._name} is "
                                 "live but was not stored: rotate again with --save-value") from None
        if done.returncode != 0:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            raise DeliveryFailed(redact(f"--save-value: {shlex.join(self.argv)} exited {done.returncode}: {tail}; "
                                        f"the new value of {self._name} is live but was not stored: rotate again"))
        return f"the new value of {self._name} was piped to `{shlex.join(self.argv)}`"


def _write_private(path: Path, text: str) -> None:
    """Create or replace `path` for this user alone (0600), never through a symlink."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT: tighten it
        data = text.encode("utf-8")
        while data:
            data = data[os.write(fd, data):]
        os.fsync(fd)
    finally:
        os.close(fd)
