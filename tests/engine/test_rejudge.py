"""inv journal.rejudge: re-deciding a run's ladder verdicts offline from the evidence its journal kept.

The evidence is real: the ladder events of two sandbox runs (tests/engine/evidence/), a gradual
rollback from `partial-regression` and a promotion of a bad fix that stopped at its first step.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ops.engine.rejudge import _look, rejudge
from ops.errors import InputError
from ops.judge.compare import JudgeSettings, judge

from testing.workspace import REPO

EVIDENCE = Path(__file__).with_name("evidence")


def recorded(name: str) -> list[dict[str, Any]]:
    """A fixture's events, each look's verdict recorded afresh by today's judge (as a run today would journal it)."""
    events = [json.loads(line) for line in (EVIDENCE / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]
    looks: dict[int, list[Any]] = {}
    for event in events:
        if event["event"] == "ladder-look":
            looks.setdefault(event["step"], []).append(_look(event))
            event["verdict"] = judge(looks[event["step"]], JudgeSettings.from_dict(event["settings"])).to_dict()
    return events


def test_with_the_settings_of_the_day_every_verdict_comes_back_bit_for_bit() -> None:
    result = rejudge("r", recorded("partial-regression-rollback"))
    assert result.reproduced and [s.step for s in result.steps] == [1, 2]
    assert all(s.reproduced == s.looks and not s.changed for s in result.steps)


def test_a_verdict_the_evidence_does_not_give_back_is_named() -> None:
    events = recorded("bad-fix-promote")
    look = next(e for e in events if e["event"] == "ladder-look")
    look["verdict"]["reason"] = "edited"
    result = rejudge("r", events)
    assert not result.reproduced
    assert result.steps[0].mismatches == ["look 1: recorded inconclusive, replayed inconclusive "
                                          "(verdict.reason: 'edited' != " + repr(judge([_look(look)], JudgeSettings.from_dict(look["settings"])).reason) + ")"]


def test_other_settings_say_where_the_decision_would_have_changed() -> None:
    events = recorded("bad-fix-promote")
    day = rejudge("r", events)
    assert day.steps[0].recorded == "worse"  # the bad fix, stopped at its first step
    stricter = rejudge("r", events, {"min_requests": 10_000}, max_error_rate=0.10)
    step = stricter.steps[0]
    assert step.changed and step.replayed == "inconclusive" and step.replayed_at is None
    assert step.fixed_threshold is not None and "a fixed threshold passes it" in step.fixed_threshold  # 8% < 10%


def test_a_run_without_ladder_looks_is_refused_with_what_to_do() -> None:
    with pytest.raises(InputError, match="no ladder looks to re-decide"):
        rejudge("r", [{"event": "run-start"}])


def test_the_task_reads_the_journal_and_says_so(tmp_path: Path) -> None:
    journal = tmp_path / ".journal"
    journal.mkdir()
    run = "20261205T200000000Z-promote-1"
    (journal / f"{run}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in recorded("bad-fix-promote")))
    done = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO), "journal.rejudge", run,
                           "--judge", "min_requests=10000", "--max-error-rate", "0.1"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "OPS_JOURNAL_DIR": str(journal)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "step 1: recorded worse at look" in done.stdout and "[CHANGED]" in done.stdout
    assert "reproduced bit for bit" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO), "journal.rejudge", run,
                          "--judge", "min_request=5"], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "OPS_JOURNAL_DIR": str(journal)})
    assert bad.returncode == 2 and "unknown keys ['min_request']" in bad.stderr and "Traceback" not in bad.stderr
