"""Load a YAML spec into plain data plus the position of every node.

The reading is ``ops.documents``': a regular file only (a symlink only to one
inside the project), a byte limit while reading, strict UTF-8, and a node and
depth budget while parsing, so a pathological file costs milliseconds and
megabytes. A spec is small: the shipped ones are under 5 KB and 300 values, so
these limits leave ten times that and stop the worst file in about 0.1 s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.documents.problem import DocumentError, Path_, Problem

__all__ = ["Loaded", "MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "parse_spec", "read_spec"]

MAX_BYTES = 64 * 1024
MAX_NODES = 3_000
MAX_DEPTH = 64


@dataclass
class Loaded:
    file: str
    data: Any = None
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    scalars: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def where(self, path: Path_) -> tuple[int, int]:
        """The position of ``path``, or of its nearest written ancestor."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.positions:
                return self.positions[path[:end]]
        return (1, 1)

    def problem(self, path: Path_, message: str, json_path: str, offset: int | None = None) -> Problem:
        """A problem at ``path``; with ``offset``, at that character of a one-line value."""
        line, col = self.where(path)
        if offset is not None and path in self.scalars:
            line, col = self.scalars[path]
            col += offset
        return Problem(self.file, line, col, json_path, message)


def read_spec(path: Path, *, display: str | None = None, root: Path | None = None) -> bytes:
    """The spec file's bytes, read once, under the reading policy; a ``DocumentError`` says why not."""
    from ops.documents.source import read_bytes

    return read_bytes(path, max_bytes=MAX_BYTES, what="spec", display=display, root=root)


def parse_spec(raw: bytes, name: str) -> Loaded:
    """The spec's data and positions from bytes already read; a problem is collected, not raised."""
    from ops.documents import yaml
    from ops.documents.source import decode

    loaded = Loaded(name)
    try:
        document = yaml.parse_yaml(decode(raw, name, what="spec"), yaml.Budget(MAX_BYTES, MAX_NODES, MAX_DEPTH))
    except DocumentError as exc:
        loaded.problems.append(exc.problem)
        return loaded
    loaded.data, loaded.positions, loaded.scalars = document.data, document.positions, document.scalars
    return loaded
