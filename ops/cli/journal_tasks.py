"""`inv journal.show [RUN]`, `inv journal.list`, `inv journal.rejudge RUN`."""

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


@task(help={"run": "A run id, a unique part of one, or `latest` (the default)",
            "judge": "A judge setting to change, key=value (repeatable, or several separated by commas; docs/judge.md)",
            "max_error_rate": "Also re-decide each recorded error rate as a fixed threshold of this rate would",
            "json": "Print one JSON result"},
      iterable=["judge"], auto_shortflags=False)
@guarded
def rejudge(c: Any, run: str | None = None, judge: list[str] | None = None, max_error_rate: float | None = None,
            json_: bool = False) -> None:
    """Re-decide a past run's verdicts offline from its journal's evidence, with other settings (docs/gradual.md)."""
    from invoke.exceptions import Exit

    from ops.actions.ladder_rungs import parse_settings
    from ops.engine.journal import default_dir, find_run, read_events
    from ops.engine.rejudge import rejudge as replay

    path = find_run(default_dir(), run)
    overrides: dict[str, Any] = {}
    for item in judge or []:
        parse_settings(item)  # a bad key or value is named here, with what to write
        overrides.update(_pairs(item))
    rate = None if max_error_rate is None else _rate(max_error_rate)
    result = replay(path.stem, read_events(path), overrides, rate)
    if json_:
        out_json(result.to_dict())
    else:
        out(_rejudged_text(result))
    if not result.reproduced:
        raise Exit(code=1)


def _pairs(text: str) -> dict[str, Any]:
    from dataclasses import fields

    from ops.actions.ladder_rungs import parse_settings

    settings = parse_settings(text).to_dict()
    named = {item.partition("=")[0].strip() for item in text.split(",") if item.strip()}
    return {f.name: settings[f.name] for f in fields(type(parse_settings(""))) if f.name in named}


def _rate(value: Any) -> float:
    from ops.errors import InputError

    try:
        rate = float(value)
    except (TypeError, ValueError):
        rate = -1.0
    if not 0 <= rate <= 1:
        raise InputError(f"--max-error-rate {value!r}: write a rate from 0 to 1, e.g. --max-error-rate 0.1 for 10%")
    return rate


def _rejudged_text(result: Any) -> str:
    lines = [f"rejudge of {result.run}" + (f" with {', '.join(f'{k}={v}' for k, v in result.overrides.items())}"
                                          if result.overrides else " with the settings of the day")]
    for s in result.steps:
        replayed = (f"{s.replayed} at look {s.replayed_at}" if s.replayed_at is not None
                    else f"still inconclusive after its {s.looks} recorded look(s)")
        change = "CHANGED" if s.changed else "same"
        was = (f"{s.recorded} at look {s.recorded_at}" if s.recorded_at is not None
               else f"no verdict in {s.looks} look(s)")
        lines.append(f"  step {s.step}: recorded {was}; now {replayed}  [{change}]")
        if s.fixed_threshold:
            lines.append(f"         fixed threshold: {s.fixed_threshold}")
        lines.extend(f"         NOT REPRODUCED {m}" for m in s.mismatches)
    for check in result.checks:
        lines.append(f"  check {check['name']} at {check['at']}: error rate {check['error_rate']:.2%} "
                     f"{'within' if check['within'] else 'over'} the limit (recorded: {check['recorded']})")
    looks = sum(s.looks for s in result.steps)
    same = sum(s.reproduced for s in result.steps)
    lines.append(f"with the settings of the day: {same} of {looks} recorded verdict(s) reproduced bit for bit")
    return "\n".join(lines)


def journal_collection() -> Collection:
    return Collection("journal", show, list_, rejudge)
