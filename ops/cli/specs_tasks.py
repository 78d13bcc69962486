"""`inv specs.check [PATH…]` and `inv specs.schema`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from invoke.collection import Collection
from invoke.tasks import task
from invoke.exceptions import Exit

from ops.cli.boundary import err, guarded, out


@task(help={"paths": "Spec files or folders (default: remediations/)", "format": "text or json"},
      iterable=["paths"], auto_shortflags=False)
@guarded
def check(c: Any, paths: list[str] | None = None, format: str = "text") -> None:
    """Validate remediation specs: every problem as file:line:col: $.path: message."""
    from ops.engine.catalog import default_dir
    from ops.engine.check import check_paths

    targets = [Path(p) for p in paths] if paths else [default_dir()]
    results = check_paths(targets)
    problems = [p for r in results for p in r.problems]
    if format == "json":
        out(json.dumps({"ok": not problems, "files": len(results), "problems": [p.as_dict() for p in problems]}, indent=2))
    else:
        for problem in problems:
            err(str(problem))
        bad = sum(1 for r in results if r.problems)
        out(f"{len(results)} spec(s) checked: {bad} invalid, {len(problems)} problem(s)" if problems
            else f"{len(results)} spec(s) checked: all valid")
    if problems:
        raise Exit(code=2)


@task(help={"check": "Only report whether the committed schema is stale (exit 1)"}, auto_shortflags=False)
@guarded
def schema(c: Any, check: bool = False) -> None:
    """Regenerate schemas/remediation.schema.json from the models."""
    from ops.engine.schema import SCHEMA_PATH, render

    fresh = render()
    current = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.exists() else ""
    if check:
        if fresh != current:
            err(f"{SCHEMA_PATH} is stale: run `inv specs.schema`")
            raise Exit(code=1)
        out(f"{SCHEMA_PATH} is up to date")
        return
    SCHEMA_PATH.write_text(fresh, encoding="utf-8")
    out(f"wrote {SCHEMA_PATH}")


def collection() -> Collection:
    return Collection("specs", check, schema)
