"""What a plan or a run carries from item to item: the request, the scope, what it changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ops.actions.base import Context
from ops.engine.journal import Journal
from ops.engine.model import Spec, Step
from ops.engine.outcome import Outcome, Record, displayable
from ops.errors import JournalError
from ops.targets import Target

__all__ = ["Completed", "Observer", "Request", "RunState", "scope_for"]

Observer = Callable[[str, Record], None]


@dataclass
class Request:
    spec: Spec
    spec_digest: str
    params: dict[str, Any]
    target: Target
    journal_dir: Path
    dry_run: bool = False
    yes: bool = False
    confirm: Callable[[str], bool] | None = None
    observer: Observer | None = None
    plan: dict[str, Any] | None = None  # a saved plan's contract (`--plan`): the run applies exactly it, or refuses
    plan_nonce: str | None = None  # the saved plan's nonce, claimed before its first write (ops.engine.saved_plan)
    plan_expires_at: str | None = None  # and when it expires: checked again at that claim
    progress: Callable[[str], None] | None = None
    deadline: float | None = None  # the verification's deadline, instead of the spec's (--deadline)


@dataclass
class Completed:
    """A write that reached the service, with what is needed to undo it."""

    step: Step
    args: Any
    outputs: dict[str, Any]


@dataclass
class RunState:
    req: Request
    outcome: Outcome
    ctx: Context
    journal: Journal | None
    scope: dict[str, Any]
    completed: list[Completed] = field(default_factory=list)
    current: str | None = None
    uncertain: str | None = None  # a write that failed without an answer: it may have applied
    refused: dict[str, str] = field(default_factory=dict)  # writes the API definitely refused (a 4xx): not applied
    verifying: bool = False  # the steps are over: whatever ends the run now is no step's failure
    facts: dict[str, Any] = field(default_factory=dict)        # what each precondition saw (the plan's contract)
    step_args: dict[str, Any] = field(default_factory=dict)    # each write's resolved arguments, as shown
    journal_error: str | None = None
    notices: list[str] = field(default_factory=list)  # what the outcome must say whatever the verdict (an overwrite)

    def emit(self, event: str, record: Record) -> None:
        if self.req.observer is not None:
            self.req.observer(event, record)

    def log(self, kind: str, **fields: Any) -> None:
        """Journal an event. A failed write raises once; after that the journal is known broken and silent."""
        if self.journal is None or self.journal_error is not None:
            return
        try:
            self.journal.event(kind, **displayable(fields))
        except JournalError as exc:
            self.journal_error = str(exc)
            raise


def scope_for(t: Target, params: dict[str, Any], journal_dir: Path | None = None) -> dict[str, Any]:
    """What `{{ … }}` can refer to: params, the target, what its Worker needs (``worker.secrets.NAME``) and which of
    its versions the journal shows were rolled back from (``worker.rolled_back_from``, read from ``journal_dir``),
    and (filled as they run) the steps."""
    from ops.engine.config_params import worker_scope
    from ops.engine.rolled_back import rolled_back_from

    return {
        "params": dict(params),
        "target": t.scope(),
        "worker": {**worker_scope(t), "rolled_back_from": rolled_back_from(journal_dir, t)},
        "steps": {},
    }
