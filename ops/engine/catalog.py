"""The specs in `remediations/`, validated once and cached by content.

Listing tasks must stay fast with hundreds of specs, so this module imports
only the standard library on the cached path. A cache entry is keyed by the
SHA-256 of the spec file's bytes and by the engine's own source files, so a
changed spec (or engine) is never served stale. As git does with its index, a
file whose (mtime, size, inode) match the entry and whose mtime is safely older
than the cache itself is not read again; any other file is hashed.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Entry", "default_dir", "discover"]

CACHE_FORMAT = 3
RACY_NS = 2_000_000_000  # a file modified this close to the cache's writing is always re-hashed


@dataclass
class Entry:
    name: str
    path: str
    digest: str
    summary: str = ""
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    valid: bool = False
    data_file: str | None = None
    stat: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.valid and not self.problems

    @property
    def data(self) -> dict[str, Any]:
        """The validated spec as plain data (read from the cache only when a task runs)."""
        if self.data_file is not None:
            try:
                value: dict[str, Any] = json.loads(Path(self.data_file).read_text(encoding="utf-8"))
                return value
            except (OSError, ValueError):
                pass  # the cache was cleaned: validate again
        from ops.engine.check import check_file

        checked = check_file(Path(self.path))
        if not checked.ok:
            from ops.errors import SpecError

            raise SpecError("; ".join(str(p) for p in checked.problems))
        fresh: dict[str, Any] = checked.data
        return fresh


def default_dir() -> Path:
    env = os.environ.get("OPS_REMEDIATIONS_DIR")
    if env:
        return Path(env)
    from ops.targets import find_targets_file

    beside = find_targets_file().parent / "remediations"
    return beside if beside.is_dir() else Path(__file__).resolve().parents[2] / "remediations"


def discover(folder: Path | None = None) -> list[Entry]:
    folder = folder or default_dir()
    files = sorted(p for p in folder.glob("*.y*ml") if p.suffix in (".yaml", ".yml"))
    cache = _Cache(folder)
    entries = [_entry(path, cache) for path in files]
    cache.save()
    return _dedupe(entries)


def _entry(path: Path, cache: _Cache) -> Entry:
    try:
        st = path.stat()
        stat = [st.st_mtime_ns, st.st_size, st.st_ino]
        unchanged = cache.by_stat(str(path), stat)
        if unchanged is not None:
            return unchanged
        raw = path.read_bytes()
    except OSError as exc:
        return Entry(path.stem, str(path), "", problems=[f"{path}:1:1: $: cannot read the file: {exc.strerror}"])
    digest = hashlib.sha256(raw).hexdigest()
    cached = cache.get(str(path), digest)
    if cached is None:
        cached = _validate(path, digest)
    cached.stat = stat
    cache.put(cached)
    return cached


def _validate(path: Path, digest: str) -> Entry:
    from ops.engine.check import check_file

    display = _display(path)
    checked = check_file(path, display=display)
    if not checked.ok:
        return Entry(path.stem, str(path), digest, problems=[str(p) for p in checked.problems])
    spec = checked.spec
    params = {name: p.model_dump(mode="json") for name, p in spec.params.items()}
    entry = Entry(spec.name, str(path), digest, spec.summary, params, [], True)
    entry._fresh_data = checked.data  # type: ignore[attr-defined]
    return entry


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _dedupe(entries: list[Entry]) -> list[Entry]:
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.ok and entry.name in seen:
            entry.problems = [f"{entry.path}:1:1: $.name: {entry.name!r} is already the name of {seen[entry.name]}; names must be unique"]
            entry.valid = False
            entry.name = Path(entry.path).stem
        elif entry.ok:
            seen[entry.name] = entry.path
    return entries


class _Cache:
    def __init__(self, folder: Path) -> None:
        root = Path(os.environ.get("OPS_CACHE_DIR") or folder.parent / ".cache" / "cfw-remedy")
        key = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
        self.file = root / f"specs-{key}.json"
        self.engine = _engine_fingerprint()
        self.entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        self.written_ns = 0
        try:
            doc = json.loads(self.file.read_text(encoding="utf-8"))
            if doc.get("format") == CACHE_FORMAT and doc.get("engine") == self.engine:
                self.entries = doc["entries"]
                self.written_ns = int(doc.get("written_ns", 0))
        except (OSError, ValueError, KeyError, TypeError):
            pass

    def by_stat(self, path: str, stat: list[int]) -> Entry | None:
        raw = self.entries.get(path)
        if raw is None or raw.get("stat") != stat or stat[0] > self.written_ns - RACY_NS:
            return None
        return Entry(**raw)

    def get(self, path: str, digest: str) -> Entry | None:
        raw = self.entries.get(path)
        if raw is None or raw.get("digest") != digest:
            return None
        return Entry(**raw)

    def put(self, entry: Entry) -> None:
        if self.entries.get(entry.path) == entry.__dict__:
            self.dirty = True  # hashed but unchanged: rewrite, so the file stops looking racy
            return
        fresh = entry.__dict__.pop("_fresh_data", None)
        if fresh is not None:
            data_file = self.file.parent / "data" / f"{entry.digest}.json"
            if _write(data_file, json.dumps(fresh)):
                entry.data_file = str(data_file)
            else:
                entry.data_file = _scratch(fresh)
        self.entries[entry.path] = entry.__dict__.copy()
        self.dirty = True

    def save(self) -> None:
        if self.dirty:
            doc = {"format": CACHE_FORMAT, "engine": self.engine, "written_ns": time.time_ns(), "entries": self.entries}
            _write(self.file, json.dumps(doc))


def _write(path: Path, text: str) -> bool:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
        return True
    except OSError:
        return False  # a cache that cannot be written only costs speed


def _scratch(data: Any) -> str:
    fd, tmp = tempfile.mkstemp(prefix="cfw-remedy-spec-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    return tmp


def _engine_fingerprint() -> str:
    base = Path(__file__).resolve().parent.parent
    stats = []
    for sub in ("engine", "actions"):
        for source in sorted((base / sub).glob("*.py")):
            st = source.stat()
            stats.append(f"{source.name}:{st.st_mtime_ns}:{st.st_size}")
    return hashlib.sha256("|".join(stats).encode()).hexdigest()[:16]
