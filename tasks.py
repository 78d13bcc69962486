"""The invoke task tree: `inv --list` shows it.

Each collection is built in its own module under ``ops/cli``; a collection that
fails to build is replaced by a stub that reports why, so that one broken part
(a spec, the sandbox, npm) never takes down the others — above all not
``remediate.rollback``.
"""

import sys

# invoke turns bytecode caching off for every import after its own (its --write-pyc flag, meant for tasks.py);
# ops and its dependencies are packages like any other: cache them unless Python itself was told not to (-B).
sys.dont_write_bytecode = sys.flags.dont_write_bytecode

from ops.cli.namespace import tasks_namespace  # noqa: E402

ns = tasks_namespace()
