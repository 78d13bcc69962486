"""`inv remediate.<name>`: one task per spec, compiled from the catalog.

Each body gets a real signature (``__signature__``) built from the spec's
params, so invoke shows typed flags with their help. A broken spec still gets
its task, which reports the problems and exits 2; the others are unaffected.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Any, Callable

from invoke.collection import Collection
from invoke.tasks import Task
from invoke.exceptions import Exit

from ops.cli.boundary import err, guarded, out
from ops.engine.catalog import Entry, discover
from ops.errors import InputError

BUILTIN_FLAGS: dict[str, tuple[Any, str]] = {
    "dry_run": (False, "Run the read-only probes and print the plan; change nothing."),
    "yes": (False, "Confirm destructive steps without asking (needed without a terminal)."),
    "json": (False, "Print one JSON result instead of text."),
    "plan_out": (None, "With --dry-run: write the plan (and the state it was computed from) to this file."),
    "plan_ttl": (None, "With --plan-out: how long the plan may be applied (seconds, or 90m, 2h; default 1h)."),
    "plan": (None, "Apply exactly the plan saved in this file, once; refused if edited, expired, applied or stale."),
    "target": (None, "Target from targets.toml (default: $OPS_TARGET or the file's default, the sandbox)."),
    "deadline": (None, "Seconds the verification may take, instead of the spec's deadline (it must exceed its hold)."),
    "save_value": (None, "Deliver a generated secret, never printed: file:PATH (0600) or cmd:COMMAND ARGS (on its stdin)."),
}


def collection(folder: Path | None = None, argv: list[str] | None = None) -> Collection:
    """All specs as tasks, or, when the command line names remediations, just those.

    Invoke copies every task's arguments while it builds its parser; with
    hundreds of specs that dominates `inv --list`, which needs names and
    summaries only, so listing tasks carry no flags. A task named on the command
    line (`inv remediate.X`, `inv --help remediate.X`) is compiled in full, and
    only its own spec is read: no other file, however broken, is waited on.
    """
    named = _named(argv)
    coll = Collection("remediate")
    for entry in discover(folder, only=named or None):
        if named and entry.name not in named:
            continue
        full = argv is None or entry.name in named
        coll.add_task(compile_entry(entry) if full else _listing_task(entry), name=entry.name)
    return coll


def _named(argv: list[str] | None) -> set[str]:
    words = [w.split("remediate.", 1)[1] for w in argv or () if w.startswith("remediate.")]
    return {w.replace("_", "-") for w in words if w}


def _listing_task(entry: Entry) -> Task:  # type: ignore[type-arg]
    def body(c: Any) -> None:
        raise InputError(f"remediate.{entry.name} was loaded for listing only; call it by name")

    body.__doc__ = entry.summary if entry.ok else f"BROKEN spec {Path(entry.path).name}: run `inv specs.check`"
    return Task(body, name=entry.name, auto_shortflags=False)


def compile_entry(entry: Entry) -> Task:  # type: ignore[type-arg]
    body = _body(entry) if entry.ok else _broken_body(entry)
    params = [inspect.Parameter("c", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    helps: dict[str, str] = {}
    for name, param in entry.params.items():
        default = param.get("default") if param["type"] == "boolean" else None
        params.append(inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                        default=bool(default) if param["type"] == "boolean" else None))
        helps[name] = _param_help(param)
    for name, (default, text) in BUILTIN_FLAGS.items():
        if name == "save_value" and not _generates(entry):
            continue  # only a spec that can generate a secret has one to deliver
        params.append(inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default))
        helps[name] = text
    body.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    body.__name__ = entry.name.replace("-", "_")
    body.__doc__ = (entry.summary + _reads(entry)) if entry.ok else f"BROKEN spec {Path(entry.path).name}: run `inv specs.check`"
    return Task(body, name=entry.name, help=helps, auto_shortflags=False)


def _generates(entry: Entry) -> bool:
    return any(p["type"] == "secret" and "generate" in p.get("sources", ("generate",)) for p in entry.params.values())


def _reads(entry: Entry) -> str:
    """The secret sources its defaults read (its `secret_sources`), for --help."""
    reads = sorted({str(p["default"]) for p in entry.params.values()
                    if p["type"] == "secret" and str(p.get("default") or "").startswith(("env:", "file:"))})
    return f" Its secret defaults read {', '.join(reads)} (secret_sources)." if reads else ""


def _number(value: Any) -> str:
    """A bound as written: 1000 and 0.9, never 1000.0 or 1e+06."""
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)


def _param_help(param: dict[str, Any]) -> str:
    bits = [param["type"]]
    if param["type"] == "secret":
        bits = ["secret source: " + ", ".join({"env": "env:NAME", "stdin": "stdin", "file": "file:PATH",
                                                "generate": "generate"}[s] for s in param["sources"])]
    if param.get("default") not in (None, ""):
        bits.append(f"default {param['default']}")
    if param.get("config"):
        bits.append(f"one the Worker's wrangler config names ({param['config']})")
    if param.get("minimum") is not None or param.get("maximum") is not None:
        bits.append(f"range {_number(param.get('minimum'))}..{_number(param.get('maximum'))}")
    if param.get("choices"):
        bits.append("one of " + "|".join(param["choices"]))
    if param.get("required"):
        bits.append("required")
    return f"{param['help']} ({', '.join(bits)})"


def _broken_body(entry: Entry) -> Callable[..., None]:
    def body(c: Any, **_: Any) -> None:
        for problem in entry.problems:
            err(problem)
        err(f"remediate.{entry.name} is unavailable: its spec has {len(entry.problems)} problem(s); fix them, "
            "then `inv specs.check` passes")
        raise Exit(code=2)

    return body


def _body(entry: Entry) -> Callable[..., None]:
    @guarded
    def body(c: Any, **flags: Any) -> None:
        run_entry(entry, flags)

    return body


def run_entry(entry: Entry, flags: dict[str, Any]) -> None:
    """The task's flags to ``ops.engine.prepare``, then the outcome to the terminal."""
    from dataclasses import replace

    from ops.cli.render import Progress, render_json, render_text
    from ops.engine.journal import unrecorded
    from ops.engine.prepare import Options, prepare
    from ops.engine.runner import execute

    builtin = {name: flags.pop(name, default) for name, (default, _) in BUILTIN_FLAGS.items()}
    options = Options(dry_run=bool(builtin["dry_run"]), yes=bool(builtin["yes"]), deadline=builtin["deadline"],
                      plan_out=Path(builtin["plan_out"]) if builtin["plan_out"] else None,
                      plan_ttl=builtin["plan_ttl"], save_value=builtin["save_value"] or None)
    prepared = prepare(entry, flags, builtin["target"], Path(builtin["plan"]) if builtin["plan"] else None, options)
    quiet = bool(builtin["json"])
    request = replace(prepared.request, confirm=None if quiet or not sys.stdin.isatty() else _ask,
                      observer=None if quiet else Progress(),
                      progress=_progress_line() if not quiet and sys.stderr.isatty() else None)
    save = prepared.save
    if not quiet:
        err(request.target.header())
    if save is not None and not request.dry_run and (said := save.before_run()):
        err(said)
    outcome = execute(request)
    if outcome.journal_error:
        unrecorded(outcome.state_left, outcome.journal_error)
    if save is not None and not request.dry_run and (said := save.after_run(outcome.status, outcome.state_left)):
        err(said)
    prepared.save_plan(outcome)
    out(render_json(outcome) if quiet else render_text(outcome))
    if outcome.exit_code:
        raise Exit(code=outcome.exit_code)


def _progress_line() -> Callable[[str], None]:
    from ops.redact import redact

    def show(text: str) -> None:
        sys.stderr.write("\r\033[K" + redact(text))
        sys.stderr.flush()

    return show


def _ask(question: str) -> bool:
    err(question)
    try:
        return input("type 'yes' to go on: ").strip().lower() == "yes"
    except EOFError:
        return False
