"""The invoke task tree: `inv --list` shows it.

Each collection is built in its own module under ``ops/cli``; a collection that
fails to build is replaced by a stub that reports why, so that one broken part
(a spec, the sandbox, npm) never takes down the others — above all not
``remediate.rollback``.
"""

from ops.cli.argv import command_line
from ops.cli.boundary import quiet_broken_pipe
from ops.cli.namespace import build_namespace

quiet_broken_pipe()  # invoke prints --list and --help itself, outside every task's boundary
ns = build_namespace(command_line())
