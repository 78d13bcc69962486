"""`cfw-remedy`: the task tree as a console script, for any folder (a Worker's repository has no tasks.py).

``cfw-remedy remediate.rollback --dry-run`` is ``inv remediate.rollback --dry-run``
in this repo: the same namespace (``ops.cli.namespace``), the same command-line
rewriting (``ops.cli.argv``). A team that prefers ``inv`` keeps a two-line tasks.py::

    from ops.cli.namespace import tasks_namespace
    ns = tasks_namespace()
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from invoke.program import Program

from ops.cli.argv import named, rewrite
from ops.cli.boundary import quiet_broken_pipe
from ops.cli.namespace import build_namespace

NAME = "cfw-remedy"


class RemedyProgram(Program):
    """An invoke Program whose namespace is built once the core options are parsed, as tasks.py builds it."""

    def parse_collection(self) -> None:
        self.namespace = build_namespace(named(self.argv))
        rewrite(self, self.namespace)
        super().parse_collection()


def _version() -> str:
    try:
        return version(NAME)
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


program = RemedyProgram(name=NAME, binary=NAME, binary_names=[NAME], version=_version())


def main() -> None:
    quiet_broken_pipe()  # invoke prints --list and --help itself, outside every task's boundary
    program.run()

