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

CACHE_FORMAT = 4
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
    name_at: list[int] = field(default_factory=lambda: [1, 1])

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


@dataclass
class _Compiled:
    """An entry just compiled, with the data the cache stores beside it."""

    entry: Entry
    data: dict[str, Any] | None = None


def default_dir() -> Path:
    env = os.environ.get("OPS_REMEDIATIONS_DIR")
    if env:
        return Path(env)
    from ops.resources import shipped
    from ops.targets import find_targets_file

    beside = find_targets_file().parent / "remediations"
    return beside if beside.is_dir() else shipped("remediations")


def discover(folder: Path | None = None, only: set[str] | None = None) -> list[Entry]:
    """Every spec in ``folder``; with ``only``, just enough of them to serve those names.

    A name is served without reading any other spec when the file named after it
    (``rollback.yaml`` for ``rollback``) defines it: that file wins any clash of
    names, so no other file can change the outcome. Otherwise every spec is read.
    """
    from ops.engine.check import spec_files

    folder = folder or default_dir()
    files = spec_files([folder])
    cache = _Cache(folder)
    entries = _named(files, cache, only) if only else None
    if entries is None:
        entries = [_entry(path, cache) for path in files]
    cache.save()
    return _dedupe(entries)


def _named(files: list[Path], cache: _Cache, only: set[str]) -> list[Entry] | None:
    picked: list[Entry] = []
    for path in files:
        fresh = cache.by_stat(str(path), _stat(path))
        if path.stem in only:
            picked.append(fresh or _entry(path, cache))
        elif fresh is not None and fresh.name in only:
            picked.append(fresh)
    served = {e.name for e in picked if e.ok and Path(e.path).stem == e.name}
    return picked if only <= served else None


def _stat(path: Path) -> list[int]:
    try:
        st = path.stat()
    except OSError:
        return []
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _entry(path: Path, cache: _Cache) -> Entry:
    """The file's entry: from the cache when its stat or its digest is known, else compiled from the bytes read once."""
    stat = _stat(path)
    unchanged = cache.by_stat(str(path), stat)
    if unchanged is not None:
        return unchanged
    from ops.documents.problem import DocumentError
    from ops.engine.check import display_name
    from ops.engine.load import read_spec

    display = display_name(path)
    try:
        raw = read_spec(path, display=display)
    except DocumentError as exc:
        return Entry(path.stem, str(path), "", problems=[str(exc.problem)])
    digest = hashlib.sha256(raw).hexdigest()
    cached = cache.get(str(path), digest)
    compiled = _Compiled(cached) if cached is not None else _compile(path, raw, digest, display)
    compiled.entry.stat = stat
    cache.put(compiled)
    return compiled.entry


def _compile(path: Path, raw: bytes, digest: str, display: str) -> _Compiled:
    from ops.engine.check import compile_spec

    checked = compile_spec(path, raw, display)
    if not checked.ok:
        return _Compiled(Entry(path.stem, str(path), digest, problems=[str(p) for p in checked.problems]))
    spec = checked.spec
    params = {name: p.model_dump(mode="json") for name, p in spec.params.items()}
    entry = Entry(spec.name, str(path), digest, spec.summary, params, [], True, name_at=list(checked.name_at))
    return _Compiled(entry, checked.data)


def _dedupe(entries: list[Entry]) -> list[Entry]:
    """One task per name (``ops.engine.check.name_owners``); a file that loses its name is broken."""
    from ops.engine.check import display_name, name_owners, name_taken

    valid = [e for e in entries if e.ok]
    for entry, owner in zip(valid, name_owners([(e.name, Path(e.path)) for e in valid])):
        if owner is not None:
            kept = valid[owner]
            taken = name_taken(entry.name, display_name(Path(entry.path)), (entry.name_at[0], entry.name_at[1]),
                               display_name(Path(kept.path)), kept.name_at[0])
            entry.problems, entry.valid = [str(taken)], False
    taken_names = {e.name for e in entries if e.ok}
    for entry in entries:
        if not entry.ok:
            entry.name = _free(Path(entry.path).stem, taken_names)
            taken_names.add(entry.name)
    return entries


def _free(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    return candidate


def _default_cache_root(folder: Path) -> Path:
    """Beside a repo's own specs; for the specs an installed package ships, the user's cache (never site-packages)."""
    from ops.resources import PACKAGE

    if folder.resolve().is_relative_to(PACKAGE):
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cfw-remedy"
    return folder.parent / ".cache" / "cfw-remedy"


class _Cache:
    def __init__(self, folder: Path) -> None:
        root = Path(os.environ.get("OPS_CACHE_DIR") or _default_cache_root(folder))
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

    def put(self, compiled: _Compiled) -> None:
        entry = compiled.entry
        if self.entries.get(entry.path) == entry.__dict__:
            self.dirty = True  # hashed but unchanged: rewrite, so the file stops looking racy
            return
        if compiled.data is not None:
            data_file = self.file.parent / "data" / f"{entry.digest}.json"
            if _write(data_file, json.dumps(compiled.data)):
                entry.data_file = str(data_file)
            else:
                entry.data_file = _scratch(compiled.data)
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
