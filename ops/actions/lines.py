"""Input files read a line at a time (key files, values files), so their size never matters."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ops.errors import InputError


def numbered_lines(path: Path, what: str) -> Iterator[tuple[int, bytes]]:
    """(line number, raw bytes) for each line; an unreadable file is an InputError naming ``what`` it is."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the {what}: {exc.strerror}") from None
    with handle:
        yield from enumerate(handle, 1)
