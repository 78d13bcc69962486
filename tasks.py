"""The invoke task tree: `inv --list` shows it.

Each collection is built in its own module under ``ops/cli``; a collection that
fails to build is replaced by a stub that reports why, so that one broken part
(a spec, the sandbox, npm) never takes down the others — above all not
``remediate.rollback``.
"""

from ops.cli.argv import command_line
from ops.cli.namespace import build_namespace

ns = build_namespace(command_line())
