"""`ops.engine.prepare`: the request a task runs, built below the CLI, and a saved plan read back into one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ops.engine import saved_plan
from ops.engine.catalog import discover
from ops.engine.prepare import Options, prepare
from ops.engine.runner import execute
from ops.errors import InputError, PlanStale
from testing.workspace import Workspace
from tests.fakes.service import Service

SPECS = Path(__file__).parent / "specs"


@pytest.fixture
def poke(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    workspace.add_spec(SPECS / "poke.yaml")
    for name, value in workspace.env.items():
        if name.startswith("OPS_") or name == "TEST_TOKEN":
            monkeypatch.setenv(name, value)
    return workspace


def test_a_plan_made_and_read_back_through_prepare_carries_its_contract_and_nonce(poke: Workspace,
                                                                                   service: Service) -> None:
    [entry] = discover(poke.specs)
    path = poke.root / "plan.json"
    made = prepare(entry, {"expect_value": "11"}, None, None, Options(dry_run=True, plan_out=path))
    outcome = execute(made.request)
    assert made.save_plan(outcome) == path
    again = prepare(entry, {}, None, path)
    doc = json.loads(path.read_text())
    assert again.request.plan == outcome.contract and again.request.plan_nonce == doc["nonce"]
    assert again.request.params["expect_value"] == 11 and not again.request.dry_run
    assert service.state.mutating() == []


def test_prepare_refuses_a_plan_out_without_a_dry_run(poke: Workspace) -> None:
    [entry] = discover(poke.specs)
    with pytest.raises(InputError, match="--plan-out goes with --dry-run"):
        prepare(entry, {}, None, None, Options(plan_out=poke.root / "plan.json"))


def test_a_nonce_is_claimed_once(tmp_path: Path) -> None:
    nonce = "0" * 32
    assert saved_plan.claim(tmp_path, nonce, "run-1") is True
    assert saved_plan.claim(tmp_path, nonce, "run-1") is False  # the same run's next write
    with pytest.raises(PlanStale, match=r"already applied at 20\S+ \(run run-1\)"):
        saved_plan.claim(tmp_path, nonce, "run-2")
    assert oct((tmp_path / "plans-applied").stat().st_mode & 0o777) == "0o700"


def test_a_plan_that_expires_before_its_first_write_is_not_claimed(tmp_path: Path) -> None:
    nonce = "1" * 32
    with pytest.raises(PlanStale, match="the plan expired at 2020-01-01T00:00:00Z, before its first write"):
        saved_plan.claim(tmp_path, nonce, "run-1", "2020-01-01T00:00:00Z")
    assert saved_plan.applied(tmp_path, nonce) is None
