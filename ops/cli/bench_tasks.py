"""`inv bench [--quick]` and `inv soak`: the measurements behind the README's figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from invoke.exceptions import Exit
from invoke.tasks import task

from ops.cli.boundary import err, guarded, out

REPO = Path(__file__).resolve().parents[2]
BENCHES = ("cli_latency", "cache_warm_bench", "gates_bench", "rollback_bench")


@task(name="bench", help={"quick": "A smoke run: fewer repetitions and smaller inputs",
                          "only": "Run just this benchmark (" + ", ".join(BENCHES) + ")"}, auto_shortflags=False)
@guarded
def bench(c: Any, quick: bool = False, only: str = "") -> None:
    """Run the benchmarks under bench/ (ours against a baseline, in the same run) and print the ratios."""
    chosen = [only] if only else list(BENCHES)
    failed = []
    for name in chosen:
        script = REPO / "bench" / f"{name}.py"
        if not script.exists():
            err(f"bench/{name}.py does not exist; choose one of {', '.join(BENCHES)}")
            raise Exit(code=2)
        err(f"==> {name}")
        done = subprocess.run([sys.executable, str(script), *(["--quick"] if quick else [])], cwd=REPO, check=False)
        if done.returncode:
            failed.append(name)
    out(summary())
    if failed:
        err(f"benchmarks that failed: {', '.join(failed)}")
        raise Exit(code=1)


def summary() -> str:
    lines = []
    for path in sorted((REPO / "bench" / "results").glob("*.json")):
        doc = json.loads(path.read_text())
        for figure in doc.get("figures", []):
            verdict = "" if figure.get("met") is None else ("  target met" if figure["met"] else "  TARGET MISSED")
            lines.append(f"{doc['benchmark']:<18} {figure['what']:<60} {figure['value']}{verdict}")
    return "\n".join(lines) or "no results yet"


@task(name="soak", help={"runs": "Runs per remediation and fault mix", "seed": "Seed of the fault schedule",
                         "disk_runs": "Runs per remediation with a full disk at a seeded point of its journal"},
      auto_shortflags=False)
@guarded
def soak(c: Any, runs: int = 50, seed: int = 1, disk_runs: int = 10) -> None:
    """The long reliability soak: many seeded fault runs of every remediation, a full disk injected at
    seeded points, and 200 drawn secrets.

    CI runs one seeded fault mix per remediation and one full disk each; this is the same suite, longer. It reports false successes,
    unrecorded changes, and undos that re-deployed the version a run replaced (all must be 0).
    """
    env = {"OPS_SOAK_RUNS": str(runs), "OPS_SOAK_SEED": str(seed), "OPS_SOAK_DISK_RUNS": str(disk_runs),
           "OPS_SOAK_FAULTS": "all", "OPS_HYPOTHESIS_PROFILE": "soak"}
    import os

    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/reliability/test_faults.py",
                           "tests/engine/test_redaction_property.py"],
                          cwd=REPO, env={**os.environ, **env}, check=False)
    out(summary())
    if done.returncode:
        raise Exit(code=done.returncode)
