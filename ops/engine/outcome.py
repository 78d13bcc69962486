"""What a plan or a run produced: records of every item, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from ops.engine.template import UNKNOWN

__all__ = ["EXIT", "Outcome", "Record", "displayable"]

EXIT = {"planned": 0, "ok": 0, "noop": 0, "failed": 1, "undone": 1, "precondition-failed": 3,
        "refused": 3, "stale-plan": 3, "interrupted": 130, "bad-input": 2, "locked": 3}


@dataclass
class Record:
    kind: str          # precondition | step | check | undo
    name: str
    action: str
    effect: str
    description: str
    args: Any = None
    status: str = "pending"   # passed | failed | skipped | planned | done | undone | not-run | noop
    message: str = ""
    outputs: Any = None
    undo: str | None = None
    duration_ms: float | None = None


@dataclass
class Outcome:
    spec: str
    target: str
    mode: str                  # dry-run | run
    status: str = "planned"
    message: str = ""
    run_id: str | None = None
    journal: str | None = None
    records: list[Record] = field(default_factory=list)
    failed_step: str | None = None
    undone: list[str] = field(default_factory=list)
    state_left: str = ""
    plan_hash: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT[self.status]

    def as_dict(self) -> dict[str, Any]:
        """The outcome as JSON data, built from already-masked values (secrets never unwrapped, then masked)."""
        from ops.redact import redact_data

        data: dict[str, Any] = displayable(self)
        data["exit_code"] = self.exit_code
        masked: dict[str, Any] = redact_data(data)
        return masked


def displayable(value: Any) -> Any:
    """JSON-able, with secrets shown by length and source and unknowns as `(known after apply)`.

    Dataclasses are walked field by field, never with ``dataclasses.asdict``, which
    would unwrap a ``SecretValue`` (itself a dataclass) into its value.
    """
    shown = getattr(value, "shown", None)
    if callable(shown):
        return shown()
    if value is UNKNOWN:
        return str(UNKNOWN)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: displayable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): displayable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [displayable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
