"""Shared bits of the benchmarks: timing whole commands, medians, and JSON results.

Every benchmark measures ours and a baseline in the same run and reports the
ratio: on a shared machine, ratios are the figures worth trusting.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
PYTHON = str(REPO / ".venv" / "bin" / "python") if (REPO / ".venv" / "bin" / "python").exists() else sys.executable


def quick() -> bool:
    return "--quick" in sys.argv


def time_command(argv: Sequence[str], *, runs: int, env: dict[str, str] | None = None, cwd: Path = REPO,
                 warmup: int = 1, check: bool = True) -> dict[str, Any]:
    samples: list[float] = []
    for i in range(warmup + runs):
        started = time.perf_counter()
        done = subprocess.run(list(argv), env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        took = time.perf_counter() - started
        if check and done.returncode != 0:
            raise SystemExit(f"benchmark command failed ({done.returncode}): {' '.join(argv)}\n{done.stderr[-2000:]}")
        if i >= warmup:
            samples.append(took * 1000)
    return summary(samples)


def time_call(fn: Callable[[], Any], *, runs: int, warmup: int = 1) -> dict[str, Any]:
    samples: list[float] = []
    for i in range(warmup + runs):
        started = time.perf_counter()
        fn()
        if i >= warmup:
            samples.append((time.perf_counter() - started) * 1000)
    return summary(samples)


def summary(samples_ms: list[float]) -> dict[str, Any]:
    return {"median_ms": round(statistics.median(samples_ms), 1), "min_ms": round(min(samples_ms), 1),
            "max_ms": round(max(samples_ms), 1), "runs": len(samples_ms)}


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("inf")


def write_result(name: str, data: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    doc = {"benchmark": name, "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
           "quick": quick(), **data}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return path


def env_with(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_")}
    env.update(extra)
    return env
