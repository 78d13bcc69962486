"""Agreement with wrangler 4.86 on 61 real configs: where wrangler throws we report an error; where it warns
about a non-inherited key or binding, we report that key or binding."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ops.gates.bindings import check
from ops.gates.load import load_config
from tests.conftest import REPO

CORPUS = REPO.parent / "shared" / "conformance" / "wrangler-configs"
pytestmark = pytest.mark.skipif(not (CORPUS / "expected-wrangler-4.86.json").exists(),
                                reason="../shared/conformance is absent (it sits beside the repo in CI and dev sessions)")


def disagreements() -> tuple[int, list[str]]:
    expected = json.loads((CORPUS / "expected-wrangler-4.86.json").read_text())
    total, misses = 0, []
    for case, info in expected.items():
        config = load_config(CORPUS / "cases" / case / info["file"])
        for env, verdict in info["envs"].items():
            total += 1
            mine = [f for f in check(config, env=env).findings if f.env == env]
            if verdict["error"] and not any(f.severity == "error" for f in mine):
                misses.append(f"{case} {env}: wrangler throws, we report no error")
            for field in re.findall(r'"([a-z_]+)" exists at the top level, but not on', verdict["warnings"]):
                if not any(f.code == "not-inherited" and f.detail.get("field") == field for f in mine):
                    misses.append(f"{case} {env}: missed not-inherited {field}")
            for binding in re.findall(r'There is a [a-z_]+ binding with name "([^"]+)"', verdict["warnings"]):
                if not any(f.code == "binding-not-inherited" and f.detail.get("binding") == binding for f in mine):
                    misses.append(f"{case} {env}: missed binding-not-inherited {binding}")
    return total, misses


def test_the_gate_agrees_with_wrangler_on_the_whole_corpus() -> None:
    total, misses = disagreements()
    assert total == 84
    assert misses == []
