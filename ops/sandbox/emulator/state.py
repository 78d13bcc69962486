"""The emulator's state: scripts with their versions and deployments, KV, queues, D1, R2, Durable Objects.

It lives in one JSON file (written atomically) with module bytes in files beside
it, so a sandbox survives restarts and can be seeded from a scenario.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_id() -> str:
    return str(uuid.uuid4())


def hex_id() -> str:
    return uuid.uuid4().hex


class State:
    """All mutable emulator state, guarded by one lock; every change is persisted."""

    def __init__(self, path: Path, seed: dict[str, Any] | None = None) -> None:
        self.path = path
        self.modules_dir = path.parent / "modules"
        self.lock = threading.RLock()
        self.seed = copy.deepcopy(seed or {})
        if path.exists():
            self.data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        else:
            self.data = self._fresh()
            self.save()

    def _fresh(self) -> dict[str, Any]:
        base: dict[str, Any] = {"scripts": {}, "kv": {}, "queues": {}, "d1": [], "r2": [], "subdomain": "sandbox"}
        for key, value in copy.deepcopy(self.seed).items():
            base[key] = value
        return base

    def reset(self) -> None:
        with self.lock:
            self.data = self._fresh()
            self.save()

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self.data, handle, indent=1)
        os.replace(tmp, self.path)

    def store_module(self, content: bytes) -> str:
        digest = hashlib.sha256(content).hexdigest()
        target = self.modules_dir / digest
        if not target.exists():
            self.modules_dir.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        return digest

    def module_bytes(self, digest: str) -> bytes:
        return (self.modules_dir / digest).read_bytes()
