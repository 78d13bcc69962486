"""Load a YAML spec with ruamel.yaml into plain data plus the position of every node.

Guards against hostile input before anything else looks at it: a size limit,
strict UTF-8, and a node budget that stops alias bombs ("billion laughs")
from expanding.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.engine.problems import Path_, Problem

__all__ = ["Loaded", "MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "load_yaml"]

MAX_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 64


class _TooBig(Exception):
    pass


@dataclass
class Loaded:
    file: str
    data: Any = None
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def where(self, path: Path_) -> tuple[int, int]:
        """The position of ``path``, or of its nearest written ancestor."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.positions:
                return self.positions[path[:end]]
        return (1, 1)

    def problem(self, path: Path_, message: str, json_path: str) -> Problem:
        line, col = self.where(path)
        return Problem(self.file, line, col, json_path, message)


def load_yaml(path: Path, *, display: str | None = None) -> Loaded:
    name = display or str(path)
    loaded = Loaded(name)
    text = _read_text(path, loaded)
    if text is None:
        return loaded
    too_deep = _flow_too_deep(text)
    if too_deep:
        line, col = too_deep
        loaded.problems.append(Problem(name, line, col, "$", f"nested more than {MAX_DEPTH} levels deep; flatten the structure"))
        return loaded
    root = _parse(text, loaded)
    if root is None and loaded.problems:
        return loaded
    try:
        loaded.data = _plain(root, (), loaded.positions, [0], 0)
    except _TooBig as exc:
        loaded.problems.append(Problem(name, 1, 1, "$", str(exc)))
    return loaded


def _read_text(path: Path, loaded: Loaded) -> str | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        loaded.problems.append(Problem(loaded.file, 1, 1, "$", f"cannot read the file: {exc.strerror}"))
        return None
    if len(raw) > MAX_BYTES:
        loaded.problems.append(Problem(loaded.file, 1, 1, "$",
            f"the file is {len(raw):,} bytes; a spec may be at most {MAX_BYTES:,} bytes: split it or remove the bulk"))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        loaded.problems.append(Problem(loaded.file, line, col, "$",
            f"invalid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8"))
        return None


def _flow_too_deep(text: str) -> tuple[int, int] | None:
    """Where [ and { nest deeper than MAX_DEPTH, found in one pass before the parser (slow on deep flows) runs."""
    depth, line, col, quote = 0, 1, 0, ""
    previous = "\n"
    for char in text:
        col += 1
        if char == "\n":
            line, col, previous = line + 1, 0, char
            if quote != '"':
                quote = ""
            continue
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"" and previous in " \t[{,:\n":
            quote = char
        elif char == "#" and previous in " \t\n":
            quote = "\n"  # a comment runs to the end of the line
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return line, col
        elif char in "]}":
            depth = max(0, depth - 1)
        previous = char
    return None


def _parse(text: str, loaded: Loaded) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = " ".join(filter(None, [exc.context, exc.problem])).strip() or "invalid YAML"
        loaded.problems.append(Problem(loaded.file, line, col, "$", f"YAML syntax: {_one_line(what)}"))
    except YAMLError as exc:
        loaded.problems.append(Problem(loaded.file, 1, 1, "$", f"YAML syntax: {_one_line(str(exc))}"))
    except RecursionError:
        loaded.problems.append(Problem(loaded.file, 1, 1, "$", f"nested too deeply; keep nesting under {MAX_DEPTH} levels"))
    return None


def _one_line(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else text
    return first.rstrip(":").strip()


def _plain(node: Any, path: Path_, positions: dict[Path_, tuple[int, int]], budget: list[int], depth: int) -> Any:
    budget[0] += 1
    if budget[0] > MAX_NODES:
        raise _TooBig(f"more than {MAX_NODES:,} values (an alias bomb?); remove the anchors and aliases that multiply")
    if depth > MAX_DEPTH:
        raise _TooBig(f"nested more than {MAX_DEPTH} levels deep; flatten the structure")
    if isinstance(node, dict):
        return _plain_map(node, path, positions, budget, depth)
    if isinstance(node, list):
        return _plain_seq(node, path, positions, budget, depth)
    return _plain_scalar(node)


def _plain_map(node: Any, path: Path_, positions: dict[Path_, tuple[int, int]], budget: list[int], depth: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    lc = getattr(node, "lc", None)
    for key, value in node.items():
        skey = str(_plain_scalar(key))
        child = (*path, skey)
        if lc is not None:
            try:
                line, col = lc.key(key)
                positions[child] = (line + 1, col + 1)
            except (KeyError, TypeError):
                pass
        out[skey] = _plain(value, child, positions, budget, depth + 1)
    return out


def _plain_seq(node: Any, path: Path_, positions: dict[Path_, tuple[int, int]], budget: list[int], depth: int) -> list[Any]:
    out: list[Any] = []
    lc = getattr(node, "lc", None)
    for index, value in enumerate(node):
        child = (*path, index)
        if lc is not None:
            try:
                line, col = lc.item(index)
                positions[child] = (line + 1, col + 1)
            except (KeyError, TypeError):
                pass
        out.append(_plain(value, child, positions, budget, depth + 1))
    return out


def _plain_scalar(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if type(value).__name__ == "ScalarBoolean":
        return bool(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    return str(value)
