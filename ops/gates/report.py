"""Render a gate result (bindings, bundle size, or check.all's combined one) as text, JSON, or GitHub
Actions annotations plus a step summary. A finding at line 0 has no position in a file (the bundle gate's)."""

from __future__ import annotations

import json
import os
from ops.gates.result import Finding, Result

GITHUB_LIMIT = 10  # annotations of one severity shown per step


def where(f: Finding) -> str:
    return f"{f.file}:{f.line}:{f.col}" if f.line else f.file


def text(result: Result, header: str, strict: bool = False) -> str:
    lines = [header]
    for f in result.findings:
        env = "" if f.env == "<top>" else f" [env {f.env}]"
        lines.append(f"{where(f)}: {f.severity}: {f.code}: {f.message}{env}")
    lines += result.notes
    errors = len(result.errors())
    lines.append(f"{errors} error(s), {len(result.findings) - errors} warning(s): {'ok' if result.ok(strict) else 'FAILED'}")
    return "\n".join(lines)


def as_json(result: Result, strict: bool = False) -> str:
    return json.dumps({"ok": result.ok(strict), "findings": [f.as_dict() for f in result.findings], "notes": result.notes,
                       **result.facts}, indent=2)


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(result: Result, title: str) -> str:
    lines: list[str] = []
    for severity in ("error", "warning"):
        chosen = [f for f in result.findings if f.severity == severity]
        for f in chosen[:GITHUB_LIMIT - 1] if len(chosen) > GITHUB_LIMIT else chosen:
            position = f"file={escape_property(f.file)},line={f.line},col={f.col}," if f.line else ""
            lines.append(f"::{severity} {position}title={escape_property(f'{title}: {f.code}')}::{escape_data(f.message)}")
        if len(chosen) > GITHUB_LIMIT:
            rest = chosen[GITHUB_LIMIT - 1:]
            listed = ", ".join(f"{where(f)} {f.code}" for f in rest[:20])
            lines.append(f"::{severity} title={escape_property(f'{title}: {len(rest)} more')}::"
                         + escape_data(f"{len(rest)} more {severity}s (GitHub shows {GITHUB_LIMIT} a step): {listed}"))
    lines += [f"::notice title={escape_property(title)}::{escape_data(note)}" for note in result.notes]
    write_step_summary(result, title)
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_step_summary(result: Result, title: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    rows = ["| severity | code | where | env | message |", "|---|---|---|---|---|"]
    rows += [f"| {f.severity} | `{f.code}` | `{where(f)}` | {f.env} | {_cell(f.message)} |" for f in result.findings]
    notes = "".join(f"- {_cell(note)}\n" for note in result.notes)
    body = f"### {title}\n\n" + ("\n".join(rows) if result.findings else "No findings.") + "\n\n" + (notes + "\n" if notes else "")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(body[: 1024 * 1024])
