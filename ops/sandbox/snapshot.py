"""A reset that starts from where the last fresh ``up`` stood once its Workers were deployed.

A fresh ``up`` deploys each Worker with the real ``wrangler deploy`` (a bundle each) and seeds
its D1 databases. Right after that, before any Worker is served or any request is sent, the
emulator's state (``emulator/``: state.json, modules, D1 files) and the Workers' copies
(``workers/``) are copied to ``snapshot/``. A reset puts them back and serves the Workers
again: the same state a fresh ``up`` reaches, without the deploys.

The snapshot is used only while its fingerprint holds: the Workers served, their sources
(each file's path, size and modification time), their secrets and credentials, the token,
the ports and the wrangler that deployed them. Anything else (an edit to a Worker, another
secret) makes the next reset a fresh one, which takes a new snapshot.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from ops.sandbox.layout import Layout

FOLDER = "snapshot"
PARTS = ("emulator", "workers")
SKIPPED = (".wrangler", ".dev.vars*", ".git", ".sandbox", ".journal", ".venv", "node_modules", "__pycache__")


def fingerprint(layout: Layout) -> str:
    digest = hashlib.sha256()
    facts = {"workers": [spec.key for spec in layout.workers], "token": layout.token, "ports": layout.ports.base,
             "secrets": {spec.key: layout.secrets_of(spec) for spec in layout.workers},
             "credentials": {spec.key: layout.credentials_of(spec) for spec in layout.workers},
             "wrangler": {spec.key: _stamp(Path(layout.wrangler_bin(spec))) for spec in layout.workers}}
    digest.update(json.dumps(facts, sort_keys=True, default=str).encode())
    for spec in layout.workers:
        source = layout.source_of(spec)
        for path in sorted(_files(source)):
            digest.update(f"{path.relative_to(source)}\0{_stamp(path)}\n".encode())
    return digest.hexdigest()


def take(home: Path, mark: str) -> None:
    folder = home / FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    for part in PARTS:
        shutil.copytree(home / part, folder / part, symlinks=True)
    (folder / "fingerprint").write_text(mark, encoding="utf-8")


def holds(home: Path, mark: str) -> bool:
    """Whether there is a snapshot for this fingerprint."""
    stamp = home / FOLDER / "fingerprint"
    return stamp.is_file() and stamp.read_text(encoding="utf-8") == mark


def restore(home: Path, mark: str) -> bool:
    """Put the snapshot back (the parts must be absent); False when there is none for this fingerprint."""
    folder = home / FOLDER
    if not holds(home, mark):
        shutil.rmtree(folder, ignore_errors=True)
        return False
    for part in PARTS:
        shutil.copytree(folder / part, home / part, symlinks=True)
    return True


def _files(source: Path) -> list[Path]:
    found: list[Path] = []
    for path in source.iterdir():
        if any(path.match(pattern) for pattern in SKIPPED) or path.is_symlink():
            continue
        found += _files(path) if path.is_dir() else [path] if path.is_file() else []
    return found


def _stamp(path: Path) -> str:
    try:
        stat = path.resolve().stat()
    except OSError:
        return "absent"
    return f"{stat.st_size}:{stat.st_mtime_ns}"
