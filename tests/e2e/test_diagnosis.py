"""The diagnosis confusion matrix: a healthy Worker is "nothing wrong" (exit 0), and each break scenario names
exactly its remediation first, with every other symptom listed as a consequence of it; every command the diagnosis
prints runs as printed (a remediation as a plan), the first one planning.

A few rows run on the session sandbox in every CI run. The whole matrix (every served sandbox Worker, every
scenario it takes) is marked `matrix`: `pytest -m matrix tests/e2e/test_diagnosis.py`, or the table from
`python bench/diagnosis_matrix.py`.
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest

from bench.diagnosis_matrix import judge, rows, run_row, run_suggestion, suggestions
from ops.sandbox.breaks import find
from ops.sandbox.constants import BOOKS, PLAIN

from testing.workspace import REPO
from testing.rehearsal import Rehearsal


def diagnosed(r: Rehearsal) -> tuple[int, dict[str, Any]]:
    done = r.inv("diagnose", "--json")
    return done.returncode, json.loads(done.stdout)


def test_a_freshly_reset_sandbox_has_nothing_wrong_and_says_why(sandbox: Any) -> None:
    for worker in (BOOKS, PLAIN):
        r = Rehearsal(sandbox, worker)
        if worker is BOOKS:
            r.reset()
        code, result = diagnosed(r)
        row = judge("healthy", None, code, result)
        assert row["right"], row
        assert result["diagnosis"]["verdict"] == "nothing-wrong" and result["diagnosis"]["evidence"]
        text = r.inv("diagnose")
        assert text.returncode == 0 and "Nothing wrong found." in text.stdout
        ran = [run_suggestion(r.handle, worker.target, c) for c in suggestions(result)]
        assert not [s for s in ran if not s["runs"]], ran  # an unknown's command, too, works on that target


@pytest.mark.parametrize("scenario", ["bad-deploy", "provider-lag"])  # the rest: -m matrix
def test_a_break_names_its_one_fix_first(rehearse: Rehearsal, scenario: str) -> None:
    r = rehearse
    r.reset()
    r.break_(scenario)
    try:
        code, result = diagnosed(r)
        row = judge(scenario, find(scenario).remediation, code, result)
        assert row["right"], row
        assert code == 1 and result["diagnosis"]["command"].startswith(f"inv remediate.{find(scenario).remediation}")
        ran = [run_suggestion(r.handle, r.worker.target, c) for c in suggestions(result)]
        assert ran and not [s for s in ran if not s["runs"]] and ran[0]["exit"] == 0, ran  # every one, as printed
        if scenario == "provider-lag":  # slow but answering: the books target's p95 limit (2 s) is what catches it
            caught = {(f["remediation"], f["probe"]) for f in result["findings"] if f["status"] == "symptom"}
            assert ("provider-reorder", "p95") in caught and {r for r, _ in caught} == {"provider-reorder"}, caught
            assert not any(f["status"] == "symptom" and f["remediation"] == "rollback" for f in result["findings"])
        if scenario == "bad-deploy":  # what a bad deploy drags along is listed, as consequences of it
            assert row["consequences"] and result["diagnosis"]["verdict"] == "cause"
            text = r.inv("diagnose").stdout
            assert "Run first: inv remediate.rollback" in text and "consequence (" in text
    finally:
        r.reset()


@pytest.fixture(scope="module")
def whole() -> Iterator[Any]:
    if not (REPO / "node_modules" / ".bin" / "wrangler").exists():
        pytest.skip("the npm parts are not installed (run ./scripts/bootstrap); CI installs them")
    from ops.sandbox.constants import AI, INFRA, MANUSCRIPT
    from testing.sandbox import SandboxHandle

    handle = SandboxHandle(workers=(BOOKS, PLAIN, AI, MANUSCRIPT, INFRA))
    yield handle
    handle.stop()


@pytest.mark.matrix
@pytest.mark.parametrize(("scenario", "key"), rows())
def test_the_whole_matrix(whole: Any, scenario: str, key: str) -> None:
    row = run_row(whole, scenario, key)
    assert row["right"] and row["suggestions_run"], row
