"""Bundle size: the same Total Upload and gzip figures as wrangler, byte for byte, for the same bundle."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ops.gates.bundle import check, evaluate, exact, measure, parse_budget, python_gzip_size
from testing.workspace import REPO

WRANGLER = REPO / "node_modules" / ".bin" / "wrangler"
needs_wrangler = pytest.mark.skipif(not WRANGLER.exists(), reason="npm wrangler is not installed (./scripts/bootstrap)")


def wrangler_dry_run(project: Path, outdir: Path) -> str:
    done = subprocess.run([str(WRANGLER), "deploy", "--dry-run", "--outdir", str(outdir)], cwd=project, capture_output=True,
                          text=True, timeout=120, env={**os.environ, "WRANGLER_SEND_METRICS": "false", "CI": "true",
                                                       "HOME": str(outdir.parent / "home")})
    assert done.returncode == 0, done.stderr
    return re.search(r"Total Upload: (.+ KiB / gzip: .+ KiB)", done.stdout).group(1)  # type: ignore[union-attr]


@needs_wrangler
def test_example_worker_matches_wrangler(tmp_path: Path) -> None:
    project = tmp_path / "w"
    shutil.copytree(REPO / "examples" / "books-worker", project, ignore=shutil.ignore_patterns(".wrangler"))
    figure = wrangler_dry_run(project, tmp_path / "out")
    assert exact(measure(tmp_path / "out")).report() == figure


@needs_wrangler
def test_bundle_with_wasm_and_text_modules_matches_wrangler(tmp_path: Path) -> None:
    project = tmp_path / "w"
    (project / "src").mkdir(parents=True)
    (project / "src" / "add.wasm").write_bytes(bytes(range(256)) * 40)
    (project / "src" / "index.js").write_text(
        'import mod from "./add.wasm";\nexport default { fetch() { return new Response(String(mod) + "x".repeat(2000)); } };\n')
    (project / "wrangler.toml").write_text('name = "wasm-app"\nmain = "src/index.js"\ncompatibility_date = "2026-04-01"\n')
    figure = wrangler_dry_run(project, tmp_path / "out")
    bundle = exact(measure(tmp_path / "out"))
    assert len(bundle.modules) == 2 and bundle.modules[-1].name == "index.js"
    assert bundle.report() == figure


def test_limits_budget_and_baseline(tmp_path: Path) -> None:
    (tmp_path / "index.js").write_bytes(os.urandom(900 * 1024))  # incompressible
    bundle = measure(tmp_path)
    assert [f["code"] for f in evaluate(bundle, plan="free", budget="1MiB")] == ["bundle-near-budget"]
    assert [f["code"] for f in evaluate(bundle, plan="current", budget="gzip:512KiB")] == ["bundle-over-budget"]
    over = evaluate(bundle, budget="raw:500KiB")[0]
    assert over["message"].startswith("the bundle is 900.00 KiB raw, over the budget (raw 0.49 MiB); largest modules: index.js 900.0 KiB")
    baseline = {"gzip_size": bundle.gzip_size // 2, "modules": [{"name": "index.js", "size": 450 * 1024}]}
    [growth] = evaluate(bundle, baseline=baseline)
    assert growth["code"] == "bundle-growth" and "index.js +460800 B" in growth["message"]
    assert parse_budget("80%", "paid") == ("gzip", int(10 * 1024 * 1024 * 0.8))


def compressible(folder: Path, size: int) -> bytes:
    """JavaScript-like text: CPython's and Node's zlib compress it differently (random bytes they do not)."""
    words = [f"function f{i}(a, b) {{ return a * {i} + b; }}\n".encode() for i in range(5000)]
    import random

    rng = random.Random(7)
    data = b"".join(rng.choice(words) for _ in range(size // 30))[:size]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.js").write_bytes(data)
    return data


@needs_wrangler
def test_the_gzip_figure_is_in_process_unless_a_threshold_is_near(tmp_path: Path) -> None:
    data = compressible(tmp_path / "b", 400 * 1024)
    far, result = check(tmp_path / "b")                                  # plan current: no gzip threshold at all
    assert (far.gzip_exact, far.gzip_size) == (False, python_gzip_size(data))
    assert "gzip by CPython zlib in-process" in result.notes[0] and result.facts["bundle"]["gzip_exact"] is False
    budget = f"gzip:{far.gzip_size}B"                                    # a budget right at the estimate: ask node
    close, result = check(tmp_path / "b", budget=budget)
    assert close.gzip_exact and "node zlib.gzipSync" in result.notes[0]
    assert close.gzip_size == exact(far).gzip_size != far.gzip_size       # they do differ, hence the margin
    assert abs(close.gzip_size - far.gzip_size) / close.gzip_size < 0.015


def test_without_node_the_figure_near_a_threshold_says_it_is_an_estimate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    compressible(tmp_path / "b", 64 * 1024)
    monkeypatch.setenv("PATH", str(tmp_path / "no-node"))
    estimate, _ = check(tmp_path / "b")
    bundle, result = check(tmp_path / "b", budget=f"gzip:{estimate.gzip_size}B")
    assert bundle.gzip_exact is False and "estimate within 1.5% of wrangler's; node was not found" in result.notes[0]
