"""Open an input file safely and read it as text under a byte budget.

A file is read only if it is a regular file: a device (``/dev/zero``), a FIFO or
a directory is refused before a byte is read, and a symlink is followed only to
a regular file inside the project. The byte limit applies while reading (one
byte past it is enough to refuse), so a huge or endless file costs nothing.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from ops.documents.problem import DocumentError, Problem

__all__ = ["Source", "decode", "read_bytes", "read_text"]


@dataclass(frozen=True)
class Source:
    """A document's text and the name its problems are reported under."""

    name: str
    text: str


def read_text(path: Path, *, max_bytes: int, what: str, display: str | None = None, root: Path | None = None,
              bom: bool = False) -> Source:
    """The file's text: regular, within ``max_bytes``, strict UTF-8 (``bom``: a leading BOM is allowed)."""
    name = display or str(path)
    return decode(read_bytes(path, max_bytes=max_bytes, what=what, display=name, root=root), name, what=what, bom=bom)


def decode(raw: bytes, name: str, *, what: str, bom: bool = False) -> Source:
    """Bytes already read, as strict UTF-8 text; an invalid byte is reported at its line and column."""
    try:
        return Source(name, raw.decode("utf-8-sig" if bom else "utf-8"))
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _error(name, line, col, f"invalid UTF-8 (byte 0x{raw[exc.start]:02x}); save the {what} as UTF-8") from None


def read_bytes(path: Path, *, max_bytes: int, what: str, display: str | None = None, root: Path | None = None) -> bytes:
    """At most ``max_bytes`` of a regular file; ``root`` bounds where a symlink may lead (default: the project)."""
    name = display or str(path)
    target = _follow(path, name, what, root)
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise _error(name, 1, 1, f"cannot read the {what}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _error(name, 1, 1, f"not a regular file ({_kind(info.st_mode)}); a {what} must be a plain file")
        if info.st_size > max_bytes:
            raise _error(name, 1, 1, _too_big(f"the file is {info.st_size:,} bytes", max_bytes, what))
        raw = _read_at_most(fd, max_bytes + 1)
    except OSError as exc:
        raise _error(name, 1, 1, f"cannot read the {what}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        raise _error(name, 1, 1, _too_big("the file grew while it was read", max_bytes, what))
    return raw


def _follow(path: Path, name: str, what: str, root: Path | None) -> Path:
    try:
        if not path.is_symlink():
            return path
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        reason = getattr(exc, "strerror", None) or "a symlink loop"
        raise _error(name, 1, 1, f"cannot follow the symlink: {reason}") from None
    project = (root or _project_of(path)).resolve()
    if not resolved.is_relative_to(project):
        raise _error(name, 1, 1, f"a symlink to {resolved}, outside the project ({project}); "
                                 f"a {what} may only link to a file inside it")
    return resolved


def _project_of(path: Path) -> Path:
    """The project a file belongs to: the parent of its folder (remediations/x.yaml → the repository)."""
    return path.absolute().parent.parent


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(fd, min(left, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _too_big(what_happened: str, max_bytes: int, what: str) -> str:
    return f"{what_happened}; a {what} may be at most {max_bytes:,} bytes: split it or remove the bulk"


def _kind(mode: int) -> str:
    for test, word in ((stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return word
    return "not a plain file"


def _error(name: str, line: int, col: int, message: str) -> DocumentError:
    return DocumentError(Problem(name, line, col, "$", message))
