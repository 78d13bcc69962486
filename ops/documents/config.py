"""A config file (TOML, JSON or JSONC, by its suffix) as data plus the position of every key.

Read under ``ops.documents``' policy (a regular file, a byte limit, strict
UTF-8, a leading BOM allowed as wrangler allows it) and parsed by the sibling
``toml`` or ``jsonc`` module; every problem is a ``DocumentError`` at a line
and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.documents.problem import DocumentError, Path_, Problem
from ops.documents.source import Source, read_text

__all__ = ["Config", "Key", "MAX_BYTES", "load_config", "parse_config"]

Key = Path_
MAX_BYTES = 5 * 1024 * 1024  # wrangler configs are a few KB; this is a mistake, not a config


@dataclass
class Config:
    path: Path
    data: dict[str, Any]
    positions: dict[Key, tuple[int, int]] = field(default_factory=dict)
    spans: dict[Key, tuple[int, int]] = field(default_factory=dict)  # JSON(C) only: each value's [start, end) offsets
    text: str = ""

    def where(self, key: Key) -> tuple[int, int]:
        """Where ``key`` is written; else where its first written member is (``[[a.b]]`` writes ``a`` only
        through ``a.b``); else its nearest written parent; else the file's start."""
        for end in range(len(key), 0, -1):
            prefix = key[:end]
            if prefix in self.positions:
                return self.positions[prefix]
            inside = [at for written, at in self.positions.items() if written[:end] == prefix]
            if inside:
                return min(inside)
        return (1, 1)


def load_config(path: Path, *, what: str = "wrangler config", max_bytes: int = MAX_BYTES,
                display: str | None = None) -> Config:
    """Read and parse ``path``; a symlink may lead anywhere (a config is named explicitly, not found in a tree)."""
    source = read_text(path, max_bytes=max_bytes, what=what, display=display, root=Path(path.absolute().anchor), bom=True)
    return parse_config(path, source, what=what)


def parse_config(path: Path, source: Source, *, what: str = "wrangler config") -> Config:
    if path.suffix == ".toml":
        from ops.documents.toml import parse_toml

        parsed = parse_toml(source)
        return Config(path, parsed.data, parsed.positions, text=source.text)
    from ops.documents.jsonc import parse_jsonc

    jsonc = parse_jsonc(source, what=what)
    if not isinstance(jsonc.data, dict):
        raise DocumentError(Problem(source.name, 1, 1, "$", f"a {what} is an object at the top level: wrap it in {{ }}"))
    return Config(path, jsonc.data, jsonc.positions, jsonc.spans, source.text)
