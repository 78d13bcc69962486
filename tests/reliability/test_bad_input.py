"""Every malformed input gets one located paragraph and exit 2: no traceback, under 2 s CPU, under 200 MB."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from testing.workspace import REPO, Workspace
from tests.engine.test_runs import SPECS
from tests.reliability.bad_inputs import CONFIGS, KEY_FILES, PARAMS, SPECS as BAD_SPECS, VALUE_FILES

CPU_LIMIT_S = 2.0
RSS_LIMIT_MB = 200


def run_measured(ws: Workspace, *args: str) -> tuple[int, str, float, float]:
    report = ws.root / "measured.json"
    env = {**ws.env, "SHORT_SECRET": "abc", "MEASURED_TO": str(report)}
    done = subprocess.run([sys.executable, str(REPO / "tests" / "reliability" / "measured.py"),
                           sys.executable, "-m", "invoke", "--search-root", str(REPO), *args], env=env,
                          cwd=ws.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    measured = json.loads(report.read_text(encoding="utf-8"))
    return measured["code"], done.stdout, measured["cpu"], measured["rss_mb"]


def assert_clean(code: int, output: str, cpu: float, rss: float, *, where: str) -> None:
    assert code == 2, output
    assert "Traceback" not in output
    assert where in output, output
    paragraphs = [p for p in output.strip().split("\n\n") if p.strip()]
    assert len(paragraphs) == 1, output
    assert cpu < CPU_LIMIT_S, f"{cpu:.2f}s CPU"
    assert rss < RSS_LIMIT_MB, f"{rss:.0f} MB"


@pytest.mark.parametrize("name, content", BAD_SPECS, ids=[n for n, _ in BAD_SPECS])
def test_bad_spec(workspace: Workspace, name: str, content: str | bytes) -> None:
    path = workspace.specs / f"{name}.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, output, cpu, rss = run_measured(workspace, "specs.check", str(path))
    assert_clean(code, output, cpu, rss, where=f"{name}.yaml:")


@pytest.mark.parametrize("name, content", KEY_FILES, ids=[n for n, _ in KEY_FILES])
def test_bad_key_file(workspace: Workspace, name: str, content: str | bytes) -> None:
    workspace.add_spec(SPECS / "warm.yaml")
    keys = workspace.root / f"{name}.txt"
    keys.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, output, cpu, rss = run_measured(workspace, "remediate.warm", "--dry-run", "--keys-file", str(keys))
    assert_clean(code, output, cpu, rss, where="no keys to warm" if name == "keys-empty" else f"{name}.txt:")


@pytest.mark.parametrize("name, content", VALUE_FILES, ids=[n for n, _ in VALUE_FILES])
def test_bad_values_file(workspace: Workspace, name: str, content: str | bytes) -> None:
    workspace.add_spec(SPECS / "warm-kv.yaml")
    values = workspace.root / f"{name}.jsonl"
    values.write_bytes(content if isinstance(content, bytes) else content.encode())
    config = workspace.root / "wrangler.toml"
    config.write_text('name = "w"\n[[kv_namespaces]]\nbinding = "CACHE"\nid = "b0b0cafe000000000000000000000001"\n')
    code, output, cpu, rss = run_measured(workspace, "remediate.warm-kv", "--dry-run", "--values-file", str(values),
                                          "--config", str(config))
    assert_clean(code, output, cpu, rss, where=f"{name}.jsonl:")


@pytest.mark.parametrize("name, argv", PARAMS, ids=[n for n, _ in PARAMS])
def test_bad_param(workspace: Workspace, name: str, argv: list[str]) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    code, output, cpu, rss = run_measured(workspace, "remediate.poke", "--dry-run", *argv)
    assert_clean(code, output, cpu, rss, where=argv[0])


@pytest.mark.parametrize("index", range(len(CONFIGS)), ids=[f"{i}-{name}" for i, (name, _) in enumerate(CONFIGS)])
def test_bad_wrangler_config(workspace: Workspace, index: int) -> None:
    name, content = CONFIGS[index]
    folder = workspace.root / f"config-{index}"
    folder.mkdir()
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    code, output, cpu, rss = run_measured(workspace, "check.bindings", "--config", str(path))
    assert_clean(code, output, cpu, rss, where=f"{name}")


def test_the_corpus_is_big_enough() -> None:
    assert len(BAD_SPECS) + len(KEY_FILES) + len(VALUE_FILES) + len(PARAMS) + len(CONFIGS) >= 40
