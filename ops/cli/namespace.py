"""Assemble the root invoke Collection from the per-area collections.

Each part is built on its own: one that fails to build becomes a stub that
says why, and the rest (above all `remediate.rollback`) keep working.
"""

from __future__ import annotations

import importlib
from typing import Any

from invoke.collection import Collection
from invoke.parser.context import ParserContext
from invoke.tasks import Task

# (collection name, module, function returning the Collection)
PARTS: tuple[tuple[str, str, str], ...] = (
    ("remediate", "ops.cli.remediate_tasks", "collection"),
    ("specs", "ops.cli.specs_tasks", "collection"),
    ("journal", "ops.cli.journal_tasks", "journal_collection"),
    ("incident", "ops.cli.incident_tasks", "incident_collection"),
    ("sandbox", "ops.cli.sandbox_tasks", "collection"),
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
    """The namespace for a tasks.py run by `inv` (this repo's own tasks.py is one)."""
    from ops.cli.argv import command_line
    from ops.cli.boundary import quiet_broken_pipe

    quiet_broken_pipe()  # invoke prints --list and --help itself, outside every task's boundary
    return build_namespace(command_line())


def build_namespace(argv: list[str] | None = None) -> Collection:
    """The root collection; ``argv`` (the command line) lets unnamed remediations load lazily."""
    if argv is not None:
        argv = [*argv, *_help_target()]
    ns = _Root()
    for name, module_name, attr in PARTS:
        try:
            build = getattr(importlib.import_module(module_name), attr)
            part = build(argv=argv) if name == "remediate" else build()
        except Exception as exc:  # one broken part must not hide the others
            part = _unavailable(name, exc)
        ns.add_collection(part, name=name)
    for module_name, attr in TOP_LEVEL:
        try:
            ns.add_task(getattr(importlib.import_module(module_name), attr))
        except Exception:  # noqa: S112 - a missing top-level task must not hide the others
            continue
    return ns


class _FlaglessContext(ParserContext):
    """The parser context of a task without flags: nothing in it changes while parsing, so no copy is made.

    invoke's parser deep-copies every task's context on every command; with hundreds of
    remediations listed (flagless until named) that copy is a large part of the extra time.
    It applies where the root collection is used as built (`cfw-remedy`, whose Program is
    given it); `inv` rebuilds the root of a tasks.py as a plain Collection and copies anyway.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> _FlaglessContext:
        return self


class _Root(Collection):
    def to_contexts(self, ignore_unknown_help: bool | None = None) -> list[ParserContext]:
        contexts = super().to_contexts(ignore_unknown_help=ignore_unknown_help)
        return [c if c.args else _FlaglessContext(name=c.name, aliases=c.aliases) for c in contexts]


def _help_target() -> list[str]:
    """The task of `inv --help TASK`: invoke's core parser has taken it as the value of --help."""
    from invoke import main

    core = getattr(main.program, "core", None)
    try:
        value = core[0].args.help.value if core else None
    except (AttributeError, IndexError, KeyError):
        return []
    return [value] if isinstance(value, str) else []


def _unavailable(name: str, exc: Exception) -> Collection:
    reason = f"{type(exc).__name__}: {exc}"

    def unavailable(c: Any) -> None:
        from invoke.exceptions import Exit

        from ops.cli.boundary import err

        err(f"the {name} tasks could not be loaded: {reason}")
        raise Exit(code=1)

    unavailable.__doc__ = f"UNAVAILABLE: {reason[:80]}"
    return Collection(name, Task(unavailable, name="unavailable"))
