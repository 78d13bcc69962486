"""The name the user ran this tool by, for the commands and hints it prints: ``cfw-remedy …`` or ``inv …``.

In a Worker's repository there is no tasks.py, so ``inv remediate.rollback`` fails there with "Can't find
any collection named 'tasks'"; a hint must say ``cfw-remedy remediate.rollback``. In this checkout, or
in a repository with the two-line tasks.py (docs/worker-repo.md), ``inv`` is what the user typed.
"""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPT = "cfw-remedy"  # the console script (ops.cli.program)


def program() -> str:
    """``cfw-remedy`` when this process is the console script, else ``inv``."""
    return SCRIPT if sys.argv and Path(sys.argv[0]).name == SCRIPT else "inv"


def command(rest: str) -> str:
    """A command line to print: ``command("journal.show latest")`` is ``cfw-remedy journal.show latest`` or ``inv …``."""
    return f"{program()} {rest}"
