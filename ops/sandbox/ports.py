"""The sandbox's ports: one base, and each part's port at its offset from it (constants.PORT_OFFSETS).

``OPS_SANDBOX_PORT_BASE`` picks the base. Unset, the sandbox chooses a free one below
Linux's ephemeral range (32768-60999, where client sockets take their ports) and keeps it
in its home (``ports.json``), so that every later command finds the same sandbox; its
targets file (``<home>/targets.toml``) carries the addresses.
"""

from __future__ import annotations

import json
import os
import random
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from ops.errors import InputError, SandboxError
from ops.sandbox.constants import PORT_OFFSETS, PORT_SPAN, PROVIDERS

__all__ = ["BASE_VARIABLE", "Ports"]

BASE_VARIABLE = "OPS_SANDBOX_PORT_BASE"
CHOSEN_FROM, CHOSEN_TO = 20000, 32000  # below the ephemeral range; above most services' fixed ports
CLAIM_SECONDS = 300  # a base just chosen is not chosen again meanwhile, while its sandbox starts
FILE = "ports.json"


@dataclass(frozen=True)
class Ports:
    """Every port of one sandbox: ``<key>`` is a Worker's public port (its proxy), ``<key>_dev`` its wrangler dev."""

    base: int
    chosen: bool = False  # by the sandbox (it may choose again), not by OPS_SANDBOX_PORT_BASE

    @classmethod
    def for_home(cls, home: Path, environ: Mapping[str, str] | None = None) -> Ports:
        """OPS_SANDBOX_PORT_BASE's; else the ones this home's sandbox chose before; else a new free choice."""
        env = os.environ if environ is None else environ
        if env.get(BASE_VARIABLE):
            return cls(_parse_base(env[BASE_VARIABLE]))
        return cls.remembered(home) or cls.choose()

    @classmethod
    def remembered(cls, home: Path) -> Ports | None:
        try:
            base = json.loads((home / FILE).read_text(encoding="utf-8"))["base"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return cls(base, chosen=True) if isinstance(base, int) else None

    @classmethod
    def choose(cls, rng: random.Random | None = None) -> Ports:
        """A free base below the ephemeral range: every port of it binds, and no other sandbox just chose it."""
        rng = rng or random.Random()
        slots = list(range(CHOSEN_FROM, CHOSEN_TO - PORT_SPAN, PORT_SPAN))
        rng.shuffle(slots)
        for base in slots:
            ports = cls(base, chosen=True)
            if not ports.taken() and _claim(base):
                return ports
        raise SandboxError(f"no free run of {PORT_SPAN} ports between {CHOSEN_FROM} and {CHOSEN_TO}; "
                           f"set {BASE_VARIABLE} to a free base")

    def remember(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        (home / FILE).write_text(json.dumps({"base": self.base}), encoding="utf-8")

    def __getitem__(self, name: str) -> int:
        return self.base + PORT_OFFSETS[name]

    @property
    def emulator(self) -> int:
        return self["emulator"]

    def providers(self) -> dict[str, int]:
        return {name: self[name] for name in PROVIDERS}

    def taken(self, names: tuple[str, ...] = tuple(PORT_OFFSETS)) -> list[str]:
        """The names among ``names`` whose port something else holds on the loopback address."""
        return [name for name in names if not _bindable(self[name])]


def _parse_base(raw: str) -> int:
    top = 65535 - PORT_SPAN
    try:
        base = int(raw)
    except ValueError:
        base = -1
    if not 1024 <= base <= top:
        raise InputError(f"{BASE_VARIABLE}={raw!r}: write a port from 1024 to {top} (the sandbox takes it and the "
                         f"{PORT_SPAN - 1} after it), e.g. {BASE_VARIABLE}=21000, or unset it to let the sandbox choose")
    return base


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the parts' servers bind
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _claim(base: int) -> bool:
    """Mark ``base`` as just chosen, machine-wide, unless another sandbox marked it in the last few minutes.

    Best effort: where the marks cannot be written, the bind test alone decides.
    """
    mark = Path(tempfile.gettempdir()) / f"cfw-remedy-sandbox-port-{base}"
    for _ in range(2):
        try:
            os.close(os.open(mark, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            return True
        except FileExistsError:
            try:
                if time.time() - mark.stat().st_mtime < CLAIM_SECONDS:
                    return False
                mark.unlink()  # an old mark: its sandbox has long bound its ports, or is gone
            except OSError:
                continue
        except OSError:
            return True
    return False
