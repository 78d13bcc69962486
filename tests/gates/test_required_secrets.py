"""`check.bindings --remote`: a name in `secrets.required` that the Worker lacks fails before `wrangler deploy` does.

Against the emulator's script settings (the Worker's bindings), one request per Worker, with wrangler's
rules: a var of the same name satisfies it, a binding of the Worker is inherited, and each env deploys
its own Worker (`<name>-<env>` unless the env names one).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from ops.cloudflare import CloudflareClient
from ops.gates.bindings import ClientLister, check
from ops.documents.config import load_config
from ops.sandbox.emulator import EmulatorHandle, start_emulator

ACCOUNT, TOKEN = "5a4db0c5000000000000000000000000", "required-secrets-token"
CONFIG = '''name = "infra-api"
main = "src/index.js"
compatibility_date = "2026-04-01"

[secrets]
required = ["ORIGIN_TOKEN", "ORIGIN_URL"]

[env.production.vars]
ORIGIN_URL = "https://origin.example"

[env.production.secrets]
required = ["ORIGIN_TOKEN", "ORIGIN_URL"]
'''


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorHandle]:
    handle = start_emulator(tmp_path / "state.json", account_id=ACCOUNT, token=TOKEN)
    yield handle
    handle.stop()


def _deploy_with_secret(emulator: EmulatorHandle, script: str, name: str, kind: str = "secret_text") -> None:
    metadata = {"main_module": "index.js", "bindings": [{"type": kind, "name": name, "text": "s3cret"}]}
    response = httpx.put(f"{emulator.api_base_url}/accounts/{ACCOUNT}/workers/scripts/{script}",
                         headers={"Authorization": f"Bearer {TOKEN}"},
                         files={"metadata": (None, json.dumps(metadata), "application/json"),
                                "index.js": ("index.js", b"export default {fetch() {}}", "application/javascript+module")})
    assert response.json()["success"], response.text


def _missing(emulator: EmulatorHandle, config: Path, env: str) -> list[tuple[str, int, str, str]]:
    client = CloudflareClient(ACCOUNT, TOKEN, base_url=emulator.api_base_url, read_only=True)
    try:
        result = check(load_config(config), env=env, remote=ClientLister(client))
    finally:
        client.close()
    return [(f.code, f.line, f.env, f.message) for f in result.findings if f.code == "missing-secret"]


def test_a_required_name_that_is_neither_a_var_nor_a_secret_of_the_worker_fails(emulator: EmulatorHandle,
                                                                                 tmp_path: Path) -> None:
    config = tmp_path / "wrangler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    _deploy_with_secret(emulator, "infra-api", "OTHER")
    assert _missing(emulator, config, "<top>") == [
        ("missing-secret", 6, "<top>", "secrets.required names ORIGIN_TOKEN, ORIGIN_URL, and Worker infra-api lacks them: "
         'wrangler deploy would fail ("The following required secrets have not been set"); '
         "set each first with wrangler secret put NAME")]

    _deploy_with_secret(emulator, "infra-api", "ORIGIN_TOKEN")
    assert [m[3].split(",")[0] for m in _missing(emulator, config, "<top>")] == ["secrets.required names ORIGIN_URL"]


def test_an_env_deploys_its_own_worker_and_its_vars_satisfy_wrangler(emulator: EmulatorHandle, tmp_path: Path) -> None:
    config = tmp_path / "wrangler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    before = len(emulator.emulator.requests)
    assert [(code, line, env) for code, line, env, _ in _missing(emulator, config, "production")] == [
        ("missing-secret", 6, "<top>"), ("missing-secret", 12, "production")]
    assert "Worker infra-api-production does not exist yet" in _missing(emulator, config, "production")[1][3]
    reads = [r["path"] for r in emulator.emulator.requests[before:] if r["path"].endswith("/settings")]
    assert len(reads) == 4  # two checks, one settings read per Worker each

    _deploy_with_secret(emulator, "infra-api-production", "ORIGIN_TOKEN")  # ORIGIN_URL is a var of the env
    assert [env for _, _, env, _ in _missing(emulator, config, "production")] == ["<top>"]


def test_a_var_the_worker_already_binds_is_inherited_not_missing(emulator: EmulatorHandle, tmp_path: Path) -> None:
    config = tmp_path / "wrangler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    _deploy_with_secret(emulator, "infra-api", "ORIGIN_TOKEN")
    _deploy_with_secret(emulator, "infra-api", "ORIGIN_URL", kind="plain_text")  # the version before had it as a var
    assert _missing(emulator, config, "<top>") == []
