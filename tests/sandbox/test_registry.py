"""The sandbox's registries: break scenarios (driving `inv sandbox.break`'s help) and constants (matching targets.toml)."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import pytest

from ops.errors import InputError
from ops.sandbox import breaks
from ops.sandbox.constants import ACCOUNT_ID, DEFAULT_PORTS, TOKEN, WORKERS
from ops.sandbox.manager import Ports

from tests.conftest import REPO


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
    assert "worker-hang (rollback, also --worker plain|manuscript)" in text


def test_an_unknown_scenario_or_worker_is_named_with_the_choices() -> None:
    with pytest.raises(InputError, match="no scenario 'flood'; choose one of: cache-flush, bad-deploy, worker-hang"):
        breaks.find("flood")
    with pytest.raises(InputError, match=r"scenario 'cache-flush' applies to books, ai, not 'plain'"):
        breaks.find("cache-flush").worker_for("plain")


def test_the_sandbox_targets_in_targets_toml_match_the_constants() -> None:
    targets = tomllib.loads((REPO / "targets.toml").read_text())["targets"]
    for spec in WORKERS:
        target = targets[spec.target]
        assert target["account_id"] == ACCOUNT_ID and target["token"] == TOKEN and target["worker"] == spec.script
        assert target["api_base_url"] == f"http://127.0.0.1:{DEFAULT_PORTS['emulator']}/client/v4"
        assert target["worker_url"] == f"http://127.0.0.1:{DEFAULT_PORTS[spec.key]}"  # the recording proxy
        assert target["wrangler_config"] == f".sandbox/workers/{spec.example}/wrangler.toml"  # never the repo's copy
        assert target["env"] == {**spec.secrets, **spec.credentials}
        settings = tomllib.loads(f"[targets.{spec.target}]\n{spec.settings.format(target=spec.target)}")["targets"][spec.target]
        assert {k: target[k] for k in settings} == settings  # remediations and params tables, as the sandbox writes them


def test_ports_come_from_the_environment_with_the_old_worker_name_kept() -> None:
    assert Ports.from_env({})["books"] == DEFAULT_PORTS["books"]
    assert Ports.from_env({"OPS_SANDBOX_WORKER_PORT": "1234"})["books"] == 1234
    assert Ports.from_env({"OPS_SANDBOX_PLAIN_DEV_PORT": "4321"})["plain_dev"] == 4321
