"""What the journal counts as rolled back from (ops/engine/rolled_back.py): only a rollback run of the same Worker
that moved all traffic to its target and was not undone. The end-to-end refusal is in test_rollback_known_bad.py."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from ops.engine.journal import Journal, new_run_id
from ops.engine.rolled_back import rolled_back_from
from ops.targets import Target

TARGET = Target("t", "http://127.0.0.1:9/client/v4", "a" * 32, "greeter", "http://127.0.0.1:9", "x")
OTHER = Target("t", "http://127.0.0.1:9/client/v4", "a" * 32, "other", "http://127.0.0.1:9", "x")
RUNS = itertools.count()  # two runs in the same millisecond would have the same id


def run(folder: Path, *events: tuple[str, dict[str, Any]], spec: str = "rollback", target: Target = TARGET,
        live: tuple[str, ...] = ("v-live",), to: str = "v-target") -> str:
    journal = Journal(folder, f"{new_run_id(spec)}-{next(RUNS)}")
    journal.event("run-start", spec=spec, target=target.header(), params={})
    journal.event("precondition", name="state", outputs={"result": {
        "current_version_id": live[0], "current_version_ids": list(live), "target_version_id": to}}, outcome="passed")
    for kind, fields in events:
        journal.event(kind, **fields)
    return journal.run_id


DEPLOYED = ("step-end", {"name": "deploy-target", "outcome": "done", "outputs": {"result": {}}})


def test_a_rollback_run_that_deployed_its_target_rolled_back_from_every_version_that_was_live(tmp_path: Path) -> None:
    first = run(tmp_path, DEPLOYED, live=("v-a", "v-b"), to="v-b")  # a split: v-b was live at a share, and is the target
    found = rolled_back_from(tmp_path, TARGET)
    assert list(found) == ["v-a"]
    [said] = found["v-a"]
    assert said.startswith(f"the journal shows run {first} rolled back from it at 20") and said.endswith("(to version v-b)")


def test_runs_that_moved_no_traffic_for_good_or_on_another_worker_are_no_evidence(tmp_path: Path) -> None:
    run(tmp_path)  # stopped before deploying
    run(tmp_path, ("step-end", {"name": "deploy-target", "outcome": "failed", "outputs": None}))
    run(tmp_path, DEPLOYED, ("undo-end", {"name": "roll-forward", "outcome": "done"}))
    run(tmp_path, ("step-end", {"name": "move-traffic", "outcome": "done", "outputs": {"outcome": "held"}}))
    run(tmp_path, DEPLOYED, target=OTHER)
    run(tmp_path, DEPLOYED, spec="rollback-drill")
    assert rolled_back_from(tmp_path, TARGET) == {}
    assert rolled_back_from(tmp_path / "none", TARGET) == {} and rolled_back_from(None, TARGET) == {}

    run(tmp_path, ("step-end", {"name": "move-traffic", "outcome": "done", "outputs": {"outcome": "completed"}}))
    assert list(rolled_back_from(tmp_path, TARGET)) == ["v-live"]
