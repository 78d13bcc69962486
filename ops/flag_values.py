"""Flag values that start with `--`, kept as data through invoke's parser.

invoke splits `--message=--force` into `--message` and `--force`, and then reads
`--force` as the task's own flag if it has one (the rollback failed when a
pager's reason was "--force"). The command-line layer marks such a value with
one private-use character before invoke sees it; the params layer takes it off.
A marker already at the start of a value is doubled, so every value round-trips.
"""

from __future__ import annotations

__all__ = ["MARK", "protect", "unprotect"]

MARK = "\ue000"


def protect(value: str) -> str:
    return MARK + value if value.startswith(("--", MARK)) else value


def unprotect(value: str) -> str:
    return value[1:] if value.startswith(MARK) else value
