"""The sandbox's registry of break scenarios, which drives `inv sandbox.break`'s help."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ops.errors import InputError
from ops.sandbox import breaks

from testing.workspace import REPO


def test_every_scenario_is_answered_by_a_shipped_remediation() -> None:
    names = [s.name for s in breaks.SCENARIOS]
    assert {"dead-letters", "worker-hang", "bad-deploy"} <= set(names) and len(set(names)) == len(names)
    shipped = {p.stem for p in (REPO / "remediations").glob("*.yaml")}
    assert {s.remediation for s in breaks.SCENARIOS} <= shipped


def test_the_break_help_comes_from_the_registry() -> None:
    done = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO), "--help", "sandbox.break"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    text = " ".join(done.stdout.split()).replace("- ", "-")  # words the help wraps at a hyphen
    for scenario in breaks.SCENARIOS:
        assert f"{scenario.name} ({scenario.remediation}" in text
    assert "worker-hang (rollback, also --worker plain|manuscript|infra|ai)" in text


def test_an_unknown_scenario_or_worker_is_named_with_the_choices() -> None:
    with pytest.raises(InputError, match="no scenario 'flood'; choose one of: cache-flush, bad-deploy, worker-hang"):
        breaks.find("flood")
    with pytest.raises(InputError, match=r"scenario 'cache-flush' applies to books, ai, not 'plain'"):
        breaks.find("cache-flush").worker_for("plain")
