"""Undo by phase, on every path that ends a run: which undos run, for every shipped spec.

A run ends in its steps (a step failed, or the run stopped half way through them) or
after them, in verification. Only a failed step undoes by `step-failed` (rollback's
roll-forward among them); only a failed verification undoes by `verify-failed`; a run
that stops during verification without a verdict (a full disk, a refusal, a signal, a
bug) undoes nothing, and its state left says what it kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from ops.actions.base import Context
from ops.engine import runner
from ops.engine.apply import VerifyResult
from ops.engine.load import parse_spec, read_spec
from ops.engine.model import Spec
from ops.engine.outcome import Outcome, Record
from ops.judge.verdict import Verdict
from ops.engine.state import Completed, Request, RunState, scope_for
from ops.errors import JournalError, PlanStale
from ops.targets import load_target
from testing.workspace import REPO
from tests.fakes.service import Service

SPECS = sorted((REPO / "remediations").glob("*.yaml"))
# spec -> (undos after a failure in the steps, undos after a failed verification); a stop during verification: none
TABLE: dict[str, tuple[list[str], list[str]]] = {
    "binding-check": (["redeploy-previous", "undo-repoint"], []),
    "cache-warm": (["keep-warm"], []),
    "d1-index": (["keep-index"], []),  # an index changes no data: its undo keeps it
    "d1-outage": ([], []),  # it changes nothing
    "promote": ([], []),  # the ladder undoes a step judged worse itself; the engine never runs its undo
    "fallback-providers": (["restore-setting"], ["restore-setting"]),
    "reduce-cache-size": (["restore-size"], ["restore-size"]),
    "jwt-rotation": ([], []),  # its one write is destructive: never undone
    "provider-reorder": (["redeploy-previous", "undo-set-order"], ["redeploy-previous", "undo-set-order"]),
    "queue-redeploy": (["detach"], []),
    "rollback": (["roll-forward"], []),
    "secret-rotation": ([], []),
}
PATHS: dict[str, Callable[[RunState], None]] = {
    "journal-failed": lambda run: runner._journal_failed(run, JournalError("cannot write the journal (ENOSPC)")),
    "refused": lambda run: runner._refused(run, PlanStale("the state changed while this run was going")),
    "sigint": lambda run: runner._interrupted(run, False),
    "sigterm": lambda run: runner._interrupted(run, True),
    "internal-error": lambda run: runner._crashed(run, RuntimeError("a bug")),
}


def _undos(spec: Spec, trigger: str) -> list[str]:
    """The undos ``undo_all`` runs for ``trigger`` when every write of ``spec`` completed, last first."""
    chosen = []
    for step in reversed(spec.steps):
        if step.effect != "write":
            continue
        if step.undo:
            name, after = step.undo, next(u for u in spec.undo if u.name == step.undo).after
        elif step.action == "edit":  # the edit action supplies its own undo
            name, after = f"undo-{step.name}", step.undo_after or ["step-failed"]
        else:
            continue
        if trigger in after:
            chosen.append(name)
    return chosen


def _run(tmp_path: Path, spec: Spec, phase: str) -> RunState:
    targets = tmp_path / "targets.toml"
    targets.write_text('default = "t"\n[targets.t]\napi_base_url = "http://127.0.0.1:9/client/v4"\n'
                       'account_id = "5a4db0c5000000000000000000000000"\ntoken = "token-for-the-table"\n'
                       'worker = "api-worker"\nworker_url = "http://127.0.0.1:9"\n')
    target = load_target(path=targets)
    req = Request(spec=spec, spec_digest="", params={}, target=target, journal_dir=tmp_path / "journal")
    run = RunState(req, Outcome(spec.name, "t", "run"), Context(target, False), None, scope_for(target, {}))
    writes = [s for s in spec.steps if s.effect != "read"]
    for step in spec.steps:
        run.outcome.records.append(Record("step", step.name, step.action, step.effect, "", status="done"))
    for step in writes:
        run.completed.append(Completed(step, {}, {}))
    if phase == "steps" and writes:  # the last write answered, but failed: the run stopped in its steps
        next(r for r in reversed(run.outcome.records) if r.name == writes[-1].name).status = "failed"
        run.outcome.failed_step = writes[-1].name
    elif phase != "steps":  # a spec that only reads (d1-outage) has no write to fail
        run.verifying = True
    return run


@pytest.fixture
def triggers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What the runner asked to undo by; the undo's actions themselves are covered by the runs below."""
    seen: list[str] = []

    def record(run: RunState, trigger: str) -> None:
        seen.append(trigger)
        run.outcome.undone = _undos(run.req.spec, trigger)
        run.outcome.state_left = f"restored: undid {', '.join(run.outcome.undone)}"

    monkeypatch.setattr(runner, "undo_all", record)
    return seen


def test_the_table_covers_every_shipped_spec() -> None:
    assert sorted(TABLE) == [p.stem for p in SPECS]


@pytest.mark.parametrize("path", sorted(PATHS))
@pytest.mark.parametrize("phase", ["steps", "verification"])
@pytest.mark.parametrize("file", SPECS, ids=[p.stem for p in SPECS])
def test_which_undos_run(tmp_path: Path, triggers: list[str], file: Path, phase: str, path: str) -> None:
    spec = Spec.model_validate(_spec_data(file))
    run = _run(tmp_path, spec, phase)
    PATHS[path](run)
    want = TABLE[spec.name][0] if phase == "steps" else []
    assert run.outcome.undone == want if triggers else want == [], (triggers, run.outcome.state_left)
    assert "step-failed" not in triggers or phase == "steps"
    if phase == "verification" and run.completed:
        assert run.outcome.state_left.startswith("CHANGED: kept "), run.outcome.state_left
        assert "the run stopped during verification, before a verdict" in run.outcome.state_left


@pytest.mark.parametrize("file", SPECS, ids=[p.stem for p in SPECS])
def test_a_failed_verification_undoes_only_by_verify_failed(tmp_path: Path, triggers: list[str], file: Path) -> None:
    spec = Spec.model_validate(_spec_data(file))
    run = _run(tmp_path, spec, "verification")
    runner._conclude(run, VerifyResult(Verdict.FAILED, "not recovered"))
    assert triggers == ["verify-failed"]
    assert run.outcome.undone == TABLE[spec.name][1]


@pytest.mark.parametrize("where, state_left, requests", [
    ("add-ten", "restored: undid add-one", [("POST", "/inc"), ("POST", "/dec")]),
    ("value", "CHANGED: kept add-one, add-ten (the run stopped during verification", [("POST", "/inc"), ("POST", "/add10")]),
])
def test_a_bug_ends_the_run_by_phase_and_says_what_it_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           service: Service, where: str, state_left: str,
                                                           requests: list[tuple[str, str]]) -> None:
    from ops.engine.journal import read_events
    from ops.engine.params import resolve_params
    from testing.workspace import CANARY, make_workspace
    from tests.engine.test_runs import SPECS as TEST_SPECS

    ws = make_workspace(tmp_path, service.url)
    monkeypatch.setenv("TEST_TOKEN", CANARY)
    spec = Spec.model_validate(_spec_data(TEST_SPECS / "poke.yaml"))
    target = load_target(path=Path(ws.env["OPS_TARGETS_FILE"]))

    def observer(event: str, record: Record) -> None:  # a bug in the code the run calls, as it reaches `where`
        if record.name == where and (event == "start" or record.kind == "check"):
            raise RuntimeError("a bug")

    params = resolve_params(spec.params, {"expect_value": 11}, dry_run=False)
    req = Request(spec=spec, spec_digest="", params=params, target=target, journal_dir=ws.journal, yes=True,
                  observer=observer)
    with pytest.raises(RuntimeError) as raised:
        runner.execute(req)
    assert f"state left: {state_left}" in "".join(getattr(raised.value, "__notes__", []))
    assert service.state.mutating() == requests
    [journal] = ws.journal.glob("*.jsonl")
    end = list(read_events(journal))[-1]
    assert end["event"] == "run-end" and end["status"] == "failed" and end["message"] == "internal error: RuntimeError: a bug"
    assert end["state_left"].startswith(state_left)


def _spec_data(path: Path) -> Any:
    return parse_spec(read_spec(path), str(path)).data
