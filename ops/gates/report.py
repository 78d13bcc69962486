"""Render a gate result as text, JSON, or GitHub Actions annotations plus a step summary."""

from __future__ import annotations

import json
import os
from typing import Any

from ops.gates.result import Finding

GITHUB_LIMIT = 10  # annotations of one severity shown per step


def text(findings: list[Finding], header: str) -> str:
    lines = [header]
    for f in findings:
        where = f"{f.file}:{f.line}:{f.col}"
        env = "" if f.env == "<top>" else f" [env {f.env}]"
        lines.append(f"{where}: {f.severity}: {f.code}: {f.message}{env}")
    errors = sum(1 for f in findings if f.severity == "error")
    lines.append(f"{errors} error(s), {len(findings) - errors} warning(s)")
    return "\n".join(lines)


def as_json(findings: list[Finding], ok: bool, **extra: Any) -> str:
    return json.dumps({"ok": ok, "findings": [f.as_dict() for f in findings], **extra}, indent=2)


def escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def github(findings: list[Finding], title: str) -> str:
    lines: list[str] = []
    for severity in ("error", "warning"):
        chosen = [f for f in findings if f.severity == severity]
        for f in chosen[:GITHUB_LIMIT - 1] if len(chosen) > GITHUB_LIMIT else chosen:
            props = f"file={escape_property(f.file)},line={f.line},col={f.col},title={escape_property(f'{title}: {f.code}')}"
            lines.append(f"::{severity} {props}::{escape_data(f.message)}")
        if len(chosen) > GITHUB_LIMIT:
            rest = chosen[GITHUB_LIMIT - 1:]
            where = ", ".join(f"{f.file}:{f.line} {f.code}" for f in rest[:20])
            lines.append(f"::{severity} title={escape_property(f'{title}: {len(rest)} more')}::"
                         + escape_data(f"{len(rest)} more {severity}s (GitHub shows {GITHUB_LIMIT} a step): {where}"))
    write_step_summary(findings, title)
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_step_summary(findings: list[Finding], title: str) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    rows = ["| severity | code | where | env | message |", "|---|---|---|---|---|"]
    rows += [f"| {f.severity} | `{f.code}` | `{f.file}:{f.line}` | {f.env} | {_cell(f.message)} |" for f in findings]
    body = f"### {title}\n\n" + ("\n".join(rows) if findings else "No findings.") + "\n\n"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(body[: 1024 * 1024])
