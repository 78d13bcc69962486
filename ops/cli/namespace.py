"""Assemble the root invoke Collection from the per-area collections.

Each part is built on its own: one that fails to build becomes a stub that
says why, and the rest (above all `remediate.rollback`) keep working.
"""

from __future__ import annotations

import importlib
from typing import Any

from invoke.collection import Collection
from invoke.tasks import Task

# (collection name, module, function returning the Collection). Named, never imported here: the sandbox's
# tasks live in its own wing (docs/sandbox-internals.md), which no product module imports.
PARTS: tuple[tuple[str, str, str], ...] = (
    ("remediate", "ops.cli.remediate_tasks", "collection"),
    ("specs", "ops.cli.specs_tasks", "collection"),
    ("journal", "ops.cli.journal_tasks", "journal_collection"),
    ("incident", "ops.cli.incident_tasks", "incident_collection"),
    ("sandbox", "ops.sandbox.tasks", "collection"),
    ("check", "ops.cli.check_tasks", "collection"),
    ("d1", "ops.cli.status_tasks", "d1_collection"),
)


# (module, task attribute): tasks at the top level, e.g. `inv diagnose`.
TOP_LEVEL: tuple[tuple[str, str], ...] = (
    ("ops.cli.diagnose_tasks", "diagnose_task"),
    ("ops.cli.logs_tasks", "logs_task"),
    ("ops.cli.status_tasks", "status_task"),
    ("ops.cli.bench_tasks", "bench"),
    ("ops.cli.bench_tasks", "soak"),
)


def tasks_namespace() -> Collection:
    """The namespace for a tasks.py run by `inv` (this repo's own tasks.py is one), its command line settled."""
    from invoke import main

    from ops.cli.argv import named, rewrite
    from ops.cli.boundary import quiet_broken_pipe

    quiet_broken_pipe()  # invoke prints --list and --help itself, outside every task's boundary
    program = main.program
    running = isinstance(getattr(program, "argv", None), list)  # else tasks.py is imported, not run by `inv`
    ns = build_namespace(named(program.argv) if running else None)
    if running:
        rewrite(program, ns)
    return ns


def build_namespace(remediations: list[str] | None = None) -> Collection:
    """The root collection; with ``remediations`` (words such as `remediate.rollback`), only those are compiled."""
    ns = Collection()
    for name, module_name, attr in PARTS:
        try:
            build = getattr(importlib.import_module(module_name), attr)
            part = build(argv=remediations) if name == "remediate" else build()
        except Exception as exc:  # one broken part must not hide the others
            part = _unavailable(name, exc)
        ns.add_collection(part, name=name)
    for module_name, attr in TOP_LEVEL:
        try:
            ns.add_task(getattr(importlib.import_module(module_name), attr))
        except Exception:  # noqa: S112 - a missing top-level task must not hide the others
            continue
    return ns


def _unavailable(name: str, exc: Exception) -> Collection:
    reason = f"{type(exc).__name__}: {exc}"

    def unavailable(c: Any) -> None:
        from invoke.exceptions import Exit

        from ops.cli.boundary import err

        err(f"the {name} tasks could not be loaded: {reason}")
        raise Exit(code=1)

    unavailable.__doc__ = f"UNAVAILABLE: {reason[:80]}"
    return Collection(name, Task(unavailable, name="unavailable"))
