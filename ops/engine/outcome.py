"""What a plan or a run produced: records of every item, and the verdict."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from enum import StrEnum
from typing import Any

from ops.engine.template import UNKNOWN

__all__ = ["EXIT", "Outcome", "Record", "Status", "displayable", "status_of"]


class Status(StrEnum):
    """How a plan or a run ended. Each maps to one exit code."""

    PLANNED = "planned"
    OK = "ok"
    NOOP = "noop"
    FAILED = "failed"
    UNDONE = "undone"
    UNVERIFIED = "unverified"      # the verification could not decide by its deadline; nothing was undone
    PRECONDITION_FAILED = "precondition-failed"
    REFUSED = "refused"
    STALE_PLAN = "stale-plan"
    LOCKED = "locked"
    BAD_INPUT = "bad-input"
    INTERRUPTED = "interrupted"
    TERMINATED = "terminated"


EXIT: dict[str, int] = {
    Status.PLANNED: 0, Status.OK: 0, Status.NOOP: 0,
    Status.FAILED: 1, Status.UNDONE: 1, Status.UNVERIFIED: 1,
    Status.BAD_INPUT: 2,
    Status.PRECONDITION_FAILED: 3, Status.REFUSED: 3, Status.STALE_PLAN: 3, Status.LOCKED: 3,
    Status.INTERRUPTED: 130, Status.TERMINATED: 143,
}


def status_of(exc: Exception) -> Status:
    """How a run (or a command) that stopped on ``exc`` ended."""
    from ops.errors import ConfirmationRefused, InputError, LockHeld, PlanStale, PreconditionFailed

    kinds = ((LockHeld, Status.LOCKED), (PlanStale, Status.STALE_PLAN), (ConfirmationRefused, Status.REFUSED),
             (PreconditionFailed, Status.PRECONDITION_FAILED), (InputError, Status.BAD_INPUT))
    return next((status for kind, status in kinds if isinstance(exc, kind)), Status.FAILED)


@dataclass
class Record:
    kind: str          # precondition | step | check | undo
    name: str
    action: str
    effect: str
    description: str
    args: Any = None
    status: str = "pending"   # a Verdict, or: skipped | planned | done | undone | not-run | noop
    message: str = ""
    outputs: Any = None
    undo: str | None = None
    duration_ms: float | None = None


@dataclass
class Outcome:
    spec: str
    target: str
    mode: str                  # dry-run | run
    status: str = Status.PLANNED
    message: str = ""
    run_id: str | None = None
    journal: str | None = None
    records: list[Record] = field(default_factory=list)
    failed_step: str | None = None
    undone: list[str] = field(default_factory=list)
    state_left: str = ""
    plan_hash: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    unverified: list[str] = field(default_factory=list)  # what could not be checked, and how to check it by hand
    journal_error: str | None = None
    contract: dict[str, Any] | None = None  # a plan's body, bound by plan_hash (ops.engine.contract)

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
