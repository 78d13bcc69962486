"""Findings and the result they add up to."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Finding:
    severity: str          # error | warning
    code: str              # stable, kebab-case, documented in the README
    message: str           # says what to do
    file: str
    line: int
    col: int
    env: str               # "<top>" or the env's name
    detail: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(data.pop("detail"))
        return data


@dataclass
class Result:
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)        # how the verdict was reached (schema version, gzip method)
    facts: dict[str, Any] = field(default_factory=dict)   # measured figures a gate reports (e.g. the bundle's sizes)

    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def ok(self, strict: bool = False) -> bool:
        return not self.errors() and not (strict and self.warnings())

    def exit_code(self, strict: bool = False) -> int:
        return 0 if self.ok(strict) else 1

    def merge(self, other: Result) -> Result:
        """One combined result: every finding, note and fact of both."""
        return Result([*self.findings, *other.findings], [*self.checked, *other.checked], [*self.notes, *other.notes],
                      {**self.facts, **other.facts})
