"""Input files read a line at a time (key files, values files), with a cap on each line and on the whole.

A line is read with a limit, never whole: `/dev/zero`, or a gigabyte with no line
break, ends with an error naming the line, not with the process's memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ops.errors import InputError

__all__ = ["numbered_lines"]

GIB = 1024 ** 3


def numbered_lines(path: Path, what: str, *, max_line: int, max_bytes: int = GIB) -> Iterator[tuple[int, bytes]]:
    """(line number, raw bytes) for each line; an unreadable file, a line over ``max_line`` bytes or a file over
    ``max_bytes`` is an InputError naming ``what`` it is."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what}: {exc.strerror}") from None
    total = 0
    with handle:
        for number in range(1, 1 << 62):
            line = handle.readline(max_line + 2)  # the line, its CR LF: one byte more is a line too long
            if not line:
                return
            total += len(line)
            if len(line.rstrip(b"\r\n")) > max_line:
                raise InputError(f"{path}:{number}: the line is longer than {_size(max_line)}, the most a line of a "
                                 f"{what} may hold; one item a line")
            if total > max_bytes:
                raise InputError(f"{path}:{number}: the {what} is larger than {_size(max_bytes)}; split it")
            yield number, line


def _size(count: int) -> str:
    for unit, size in (("GiB", GIB), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if count >= size and count % size == 0:
            return f"{count // size} {unit}"
    return f"{count} bytes"
