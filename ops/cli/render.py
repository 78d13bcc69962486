"""Text rendering of plans, runs and progress. All output passes through the redactor."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from ops.engine.outcome import Outcome, Record, displayable
from ops.redact import redact

MARK = {"passed": "ok  ", "failed": "FAIL", "planned": "plan", "skipped": "skip", "done": "done",
        "undone": "undo", "noop": "noop", "pending": "..  ", "not-run": "--  "}


class Progress:
    """Prints one line as each item ends (text mode only)."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.checks: dict[str, tuple[str, str]] = {}

    def __call__(self, event: str, record: Record) -> None:
        if event == "start" and record.effect != "read":
            self._line(f"  ..   {record.kind} {record.name}: {record.description}")
        if event != "end" or (record.kind == "check" and record.status == "planned"):
            return
        if record.kind == "check":
            seen = (record.status, record.message)
            if self.checks.get(record.name) == seen:
                return  # polling: say it again only when it changes
            self.checks[record.name] = seen
        self._line("  " + _record_line(record))

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
        lines.extend(_plan_sections(outcome))
    else:
        lines.append(f"run of {outcome.spec}: {outcome.status}")
    lines.append("")
    lines.append(f"result: {outcome.status} (exit {outcome.exit_code}): {outcome.message}")
    if outcome.failed_step:
        lines.append(f"failed step: {outcome.failed_step}")
    if outcome.state_left:
        lines.append(f"state left: {outcome.state_left}")
    if outcome.plan_hash:
        lines.append(f"plan hash: {outcome.plan_hash}")
    if outcome.journal:
        lines.append(f"journal: {outcome.journal}   (inv journal.show {outcome.run_id})")
    return redact("\n".join(lines))


def _plan_sections(outcome: Outcome) -> list[str]:
    lines: list[str] = []
    for kind, title in (("precondition", "preconditions (probed now)"), ("step", "steps"), ("check", "verification")):
        records = [r for r in outcome.records if r.kind == kind]
        if not records:
            continue
        lines.append(f"\n{title}")
        for r in records:
            lines.append("  " + _record_line(r))
            if r.kind == "step" and r.effect != "read":
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
    return redact(json.dumps(outcome.as_dict(), indent=2, default=str))
