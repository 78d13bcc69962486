"""Text rendering of plans, runs and progress. All output passes through the redactor.

Progress on a terminal is one live status line (on stderr) that the final plan
or result replaces; only changes made (a write, destructive step or undo
ending) leave a line behind. When stderr is not a terminal, progress is plain,
stable lines for those same changes and for the verification as it changes, and
the final output lists every item once, with its final status: a probe that
ends the run as a no-op is shown as `noop`, never first as FAIL.
"""

from __future__ import annotations

import json
import shutil
import sys
from typing import Any, TextIO

from ops.invoked import command
from ops.cli.boundary import clear_live, live
from ops.engine.outcome import Outcome, Record, displayable
from ops.redact import dumps, redact

MARK = {"passed": "ok  ", "failed": "FAIL", "planned": "plan", "skipped": "skip", "done": "done",
        "undone": "undo", "noop": "noop", "pending": "..  ", "not-run": "--  "}
CHANGES = ("step", "undo")


class Progress:
    """The run as it happens: a live line on a terminal, plain lines for changes otherwise."""

    def __init__(self, stream: TextIO | None = None, live_line: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty() if live_line is None else live_line
        self.checks: dict[str, tuple[str, str]] = {}

    def __call__(self, event: str, record: Record) -> None:
        changes = record.kind in CHANGES and record.effect != "read" and record.status != "planned"
        if self.live:
            self._live(event, record, changes)
            return
        if event == "start" and changes:
            self._line(f"  ..   {record.kind} {record.name}: {record.description}")
        elif event == "end" and changes:
            self._line("  " + _record_line(record))
        elif (event == "end" and record.kind == "check" and record.status not in ("planned", "skipped")
              and self._check_changed(record)):  # a plan's checks are shown in the plan itself
            self._line("  " + _record_line(record))

    def _live(self, event: str, record: Record, changes: bool) -> None:
        if event == "end" and changes:
            clear_live()
            self._line("  " + _record_line(record))
            return
        state = "..  " if event == "start" or record.kind == "precondition" else MARK.get(record.status, record.status)
        width = shutil.get_terminal_size((100, 20)).columns - 1
        live(redact(f"  {state} {record.kind} {record.name}: {record.description}")[:width], self.stream)  # mask, then cut

    def _check_changed(self, record: Record) -> bool:
        seen = (record.status, record.message)
        if self.checks.get(record.name) == seen:
            return False  # polling: say it again only when it changes
        self.checks[record.name] = seen
        return True

    def _line(self, text: str) -> None:
        print(redact(text), file=self.stream, flush=True)


def _record_line(r: Record) -> str:
    took = f" ({r.duration_ms:.0f} ms)" if r.duration_ms is not None else ""
    effect = "" if r.effect == "read" else f"[{r.effect}] "
    line = f"{MARK.get(r.status, r.status)} {r.kind} {r.name}: {effect}{r.description}{took}"
    if r.message:
        line += f"\n         {r.message}"
    return line


def render_text(outcome: Outcome) -> str:
    if outcome.status == "bad-input":
        return redact(f"error: {outcome.message}")
    lines = []
    if outcome.mode == "dry-run":
        lines.append(f"plan for {outcome.spec} on {outcome.target}")
        lines.append("(dry-run: the read-only probes ran; nothing was changed)")
        lines.extend(_secret_sources(outcome.params))
        lines.extend(_plan_sections(outcome))
    else:
        lines.append(f"run of {outcome.spec}: {outcome.status}")
        lines.extend(_plan_sections(outcome))
    lines.append("")
    lines.append(f"result: {outcome.status} (exit {outcome.exit_code}): {outcome.message}")
    if outcome.failed_step:
        lines.append(f"failed step: {outcome.failed_step}")
    if outcome.state_left:
        lines.append(f"state left: {outcome.state_left}")
    if outcome.plan_hash:
        lines.append(f"plan hash: {outcome.plan_hash}")
    if outcome.journal:
        lines.append(f"journal: {outcome.journal}   ({command('journal.show ' + str(outcome.run_id))})")
    return redact("\n".join(lines))


def _secret_sources(params: dict[str, Any]) -> list[str]:
    """Where each secret param's value comes from, shown before anything else in a plan."""
    shown = [f"--{name.replace('_', '-')} {value}" for name, value in params.items()
             if isinstance(value, str) and value.startswith("<secret:")]
    return ["secrets: " + "; ".join(shown)] if shown else []


def _plan_sections(outcome: Outcome) -> list[str]:
    lines: list[str] = []
    sections = (("precondition", "preconditions (probed now)" if outcome.mode == "dry-run" else "preconditions"),
                ("step", "steps"), ("check", "verification"), ("undo", "undo"))
    for kind, title in sections:
        records = [r for r in outcome.records if r.kind == kind]
        if not records:
            continue
        lines.append(f"\n{title}")
        for r in records:
            lines.append("  " + _record_line(r))
            if r.kind == "step" and r.effect != "read" and outcome.mode == "dry-run":
                lines.append(f"         args: {_args(r.args)}")
                lines.append(f"         undo: {r.undo}")
            lines.extend(_facts(r.outputs))
    return lines


def _facts(outputs: Any) -> list[str]:
    """What a probe found that the plan should show: findings, or an old/new table."""
    if not isinstance(outputs, dict):
        return []
    lines = [f"         found: {item}" for item in (outputs.get("findings") or [])[:10]]
    for row in outputs.get("table") or []:
        lines.append("         " + "  ".join(f"{k}={v}" for k, v in row.items()))
    return lines


def _args(args: Any) -> str:
    return json.dumps(displayable(args), sort_keys=True, default=str)


def render_json(outcome: Outcome) -> str:
    return dumps(outcome.as_dict(), indent=2)
