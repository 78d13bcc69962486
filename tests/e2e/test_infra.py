"""The infrastructure platform's runbook: deploys that fail, each caught by a gate before deploying.

Each failure is a variant of the sandbox's copy of examples/infra-worker (never examples/ itself):
a bundle over the size limit, a binding to a KV namespace the account does not have, and a required
secret the Worker does not have. For each, the gate fails first, and the real `wrangler deploy` against
the sandbox's control plane fails as production does (10027, 10042, wrangler's own "required secrets"
refusal after the API's 10057). The Worker is not served: its rehearsals need the control plane only.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ops.sandbox.constants import INFRA
from testing.workspace import CANARY, REPO

WRANGLER = REPO / "node_modules" / ".bin" / "wrangler"


class Infra:
    """A variant of the infrastructure Worker in its own folder, and the commands a CI job would run on it."""

    def __init__(self, handle: Any, folder: Path) -> None:
        self.handle, self.sb, self.dir = handle, handle.sandbox, folder
        shutil.copytree(self.sb.dir_of(INFRA), folder)

    @property
    def config(self) -> Path:
        return self.dir / "wrangler.toml"

    def edit(self, old: str, new: str) -> None:
        text = self.config.read_text(encoding="utf-8")
        assert old in text
        self.config.write_text(text.replace(old, new), encoding="utf-8")

    def inv(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO), *args], capture_output=True,
                              text=True, env={**self.handle.ops_env(OPS_TARGET=INFRA.target), "OPS_WRANGLER": str(WRANGLER)},
                              timeout=300, cwd=self.dir)  # a copied repository without its own node_modules
        assert CANARY not in done.stdout + done.stderr
        return done

    def gate(self, *args: str) -> dict[str, Any]:
        done = self.inv(*args, "--format", "json")
        assert done.returncode in (0, 1), done.stdout + done.stderr
        result: dict[str, Any] = json.loads(done.stdout)
        return result

    def wrangler(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(WRANGLER), *args], cwd=self.dir, env=self.sb.wrangler_env(), capture_output=True,
                              text=True, timeout=300)

    def deploy(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.wrangler("deploy", *args)


@pytest.fixture
def infra(sandbox: Any, tmp_path: Path) -> Infra:
    """A Worker deployed once with its required secret (a first deploy gives it in a secrets file), then a variant."""
    first = Infra(sandbox, tmp_path / "infra-worker")
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps(sandbox.sandbox.secrets_of(INFRA)), encoding="utf-8")
    done = first.deploy("--secrets-file", str(secrets))
    assert done.returncode == 0, done.stdout + done.stderr
    return first


def _codes(result: dict[str, Any]) -> set[str]:
    return {f["code"] for f in result["findings"] if f["severity"] == "error"}


def test_the_worker_as_written_passes_every_gate(infra: Infra) -> None:
    bindings = infra.gate("check.bindings", "--config", str(infra.config), "--remote")
    size = infra.gate("check.bundle-size", "--build", "--config", str(infra.config))
    assert bindings["ok"] and size["ok"], (bindings, size)
    assert infra.deploy().returncode == 0

    diagnosed = infra.inv("diagnose", "--json")  # the target's remediations: rollback, d1-outage, binding-check
    assert diagnosed.returncode == 0, diagnosed.stdout + diagnosed.stderr
    found = {(f["remediation"], f["probe"]): f["status"] for f in json.loads(diagnosed.stdout)["findings"]}
    assert found[("binding-check", "bindings")] == found[("d1-outage", "database-answers")] == "healthy"
    assert "symptom" not in found.values() and {r for r, _ in found} == {"rollback", "d1-outage", "binding-check"}


def test_a_bundle_over_the_size_limit_is_caught_before_deploying(infra: Infra) -> None:
    (infra.dir / "src" / "table.bin").write_bytes(b"\0" * (64 * 2**20 + 1024))  # a routing table grown past 64 MiB
    (infra.dir / "src" / "index.js").write_text(
        'import table from "./table.bin";\n' + (infra.dir / "src" / "index.js").read_text(encoding="utf-8")
        .replace('if (path === "/") return', 'if (path === "/table") return new Response(String(table.byteLength));\n'
                                           '    if (path === "/") return'), encoding="utf-8")
    infra.edit('main = "src/index.js"', 'main = "src/index.js"\nrules = [{ type = "Data", globs = ["**/*.bin"] }]')

    size = infra.gate("check.bundle-size", "--build", "--config", str(infra.config))
    assert not size["ok"] and _codes(size) == {"bundle-over-limit"}, size

    refused = infra.deploy()
    assert refused.returncode != 0
    assert "exceeded the size limit of 64 MiB" in refused.stdout + refused.stderr
    assert "[code: 10027]" in refused.stdout + refused.stderr


def test_a_binding_to_a_namespace_that_does_not_exist_is_caught_before_deploying(infra: Infra) -> None:
    gone = "deadbeef00000000000000000000dead"
    infra.edit('id = "b0b0cafe000000000000000000000003"', f'id = "{gone}"')

    local = infra.gate("check.bindings", "--config", str(infra.config))
    assert local["ok"], "the id is well formed: only the account knows it is not there"
    remote = infra.gate("check.bindings", "--config", str(infra.config), "--remote")
    missing = [f for f in remote["findings"] if f["code"] == "missing-kv"]
    written = next(n for n, line in enumerate(infra.config.read_text().splitlines(), 1) if gone in line)
    assert not remote["ok"] and len(missing) == 1 and missing[0]["line"] == written
    assert 'the KV namespace "infra-settings" (b0b0cafe000000000000000000000003) looks like the one meant' in missing[0]["message"]

    refused = infra.deploy()
    assert refused.returncode != 0
    assert f"KV namespace '{gone}' is not valid" in refused.stdout + refused.stderr
    assert "[code: 10042]" in refused.stdout + refused.stderr


def test_a_required_secret_that_is_not_set_is_caught_before_deploying(infra: Infra) -> None:
    assert infra.wrangler("secret", "delete", "ORIGIN_TOKEN").returncode == 0  # someone removed it, or never set it

    remote = infra.gate("check.bindings", "--config", str(infra.config), "--remote")
    missing = [f for f in remote["findings"] if f["code"] == "missing-secret"]
    assert not remote["ok"] and len(missing) == 1, remote
    assert "secrets.required names ORIGIN_TOKEN, and Worker infra-api lacks them" in missing[0]["message"]

    refused = infra.deploy()
    assert refused.returncode != 0
    assert "The following required secrets have not been set: ORIGIN_TOKEN" in refused.stdout + refused.stderr

    put = subprocess.run([str(WRANGLER), "secret", "put", "ORIGIN_TOKEN"], cwd=infra.dir, env=infra.sb.wrangler_env(),
                         input="a-new-origin-token\n", capture_output=True, text=True, timeout=120)
    assert put.returncode == 0, put.stdout + put.stderr
    assert infra.gate("check.bindings", "--config", str(infra.config), "--remote")["ok"]
    assert infra.deploy().returncode == 0
