"""`inv journal.show [RUN]`."""

from __future__ import annotations

import json
from typing import Any

from invoke.collection import Collection
from invoke.tasks import task

from ops.cli.boundary import guarded, out, out_json


@task(name="list", auto_shortflags=False)
@guarded
def list_(c: Any) -> None:
    """List the runs in the journal, oldest first."""
    from ops.engine.journal import default_dir, list_runs

    runs = list_runs(default_dir())
    out("\n".join(runs) if runs else f"no runs yet in {default_dir()}")


@task(help={"run": "A run id, a unique part of one, or `latest` (the default)", "json": "Print raw JSONL events"},
      auto_shortflags=False)
@guarded
def show(c: Any, run: str | None = None, json_: bool = False) -> None:
    """Print a run from the journal."""
    from ops.engine.journal import default_dir, find_run, read_events

    path = find_run(default_dir(), run)
    for event in read_events(path):
        if json_:
            out_json(event)  # masked value by value: a JSON line stays a JSON line
            continue
        rest = {k: v for k, v in event.items() if k not in ("ts", "mono", "run", "event")}
        out(f"{event['ts']}  {event['event']:<12} " + ", ".join(f"{k}={_short(v)}" for k, v in rest.items() if v not in (None, "", [], {})))


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 160 else text[:157] + "..."



def journal_collection() -> Collection:
    return Collection("journal", show, list_)
