"""The versions the journal shows were rolled back from: evidence for ``versions.known_bad`` that the
deployments list may no longer hold (it shows the latest deployments only: wrangler says "the 10 most recent").

A run of the ``rollback`` remediation on the same Worker and account rolled back from the versions
its ``state`` precondition saw live, except its own target, when it moved all traffic to the target:
``deploy-target`` ended done, or ``move-traffic`` ended done with its ladder ``completed``; and no
``roll-forward`` undo put them back. Runs are read from their files named for the spec
(``<time>-rollback-<pid>.jsonl``); a file that cannot be read is passed over, so that an old damaged
run never stops an emergency rollback.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ops.engine.journal import list_runs, read_events
from ops.errors import InputError

if TYPE_CHECKING:
    from ops.targets import Target

__all__ = ["ROLLBACK", "rolled_back_from"]

ROLLBACK = "rollback"  # the remediation's name, as its runs' files and run-start carry it


def rolled_back_from(folder: Path | None, target: Target) -> dict[str, list[str]]:
    """Each version a rollback run of ``target``'s Worker moved traffic away from, with the run and when."""
    found: dict[str, list[str]] = {}
    if folder is None or not folder.is_dir():
        return found
    for run in list_runs(folder):
        if f"-{ROLLBACK}-" not in run:
            continue
        try:
            events = list(read_events(folder / f"{run}.jsonl"))
        except (InputError, OSError, UnicodeError):
            continue
        for version, why in _left(run, events, target).items():
            found.setdefault(version, []).append(why)
    return found


def _left(run: str, events: list[dict[str, Any]], target: Target) -> dict[str, str]:
    start = next((e for e in events if e.get("event") == "run-start"), None)
    if start is None or start.get("spec") != ROLLBACK or not _same_worker(str(start.get("target", "")), target):
        return {}
    state = next((e for e in events if e.get("event") == "precondition" and e.get("name") == "state"), None)
    result = _result(state)
    moved = next((e for e in events if e.get("event") == "step-end" and _moved_all(e)), None)
    undone = any(e.get("event") == "undo-end" and e.get("name") == "roll-forward" and e.get("outcome") == "done"
                 for e in events)
    if moved is None or undone or not result.get("target_version_id"):
        return {}
    to = str(result["target_version_id"])
    live = [str(v) for v in result.get("current_version_ids") or [result.get("current_version_id")] if v]
    return {v: f"the journal shows run {run} rolled back from it at {moved.get('ts')} (to version {to})"
            for v in live if v != to}


def _moved_all(event: dict[str, Any]) -> bool:
    if event.get("outcome") != "done":
        return False
    if event.get("name") == "deploy-target":
        return True
    outputs = event.get("outputs")
    return event.get("name") == "move-traffic" and isinstance(outputs, dict) and outputs.get("outcome") == "completed"


def _result(event: dict[str, Any] | None) -> dict[str, Any]:
    outputs = (event or {}).get("outputs")
    result = outputs.get("result") if isinstance(outputs, dict) else None
    return result if isinstance(result, dict) else {}


def _same_worker(header: str, target: Target) -> bool:
    """A run-start's target header (``Target.header``) names the same Worker on the same account."""
    return f": worker {target.worker} at " in header and f"(account {target.account_id}," in header
