"""What a sandbox reset costs, three ways, interleaved in the same run.

The session sandbox of the tests (the books, plain and infrastructure Workers on real workerd).
Each round breaks the books Worker (bad-deploy), then resets:
- ``kept``: as a reset does, from the snapshot (ops.sandbox.snapshot), leaving the plain and
  infrastructure Workers running, which nothing reached (ops.sandbox.pristine);
- ``from_snapshot``: from the snapshot, every Worker served again (the records of what they
  said forgotten first);
- ``from_nothing``: the snapshot removed too: three real `wrangler deploy`s.
Each must end healthy. Wall time, and the machine's CPU time (every process, from /proc/stat).

    python bench/sandbox_reset.py          # --quick for fewer rounds
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import quick, ratio, summary, write_result  # noqa: E402


def _busy() -> float:
    """Seconds of CPU every process of the machine has used (user, nice, system, irq)."""
    with open("/proc/stat", encoding="ascii") as stat:
        ticks = [int(x) for x in stat.readline().split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    from ops.sandbox import pristine
    from ops.sandbox.constants import BOOKS, INFRA, PLAIN
    from ops.sandbox.snapshot import FOLDER
    from testing.sandbox import SandboxHandle

    rounds = 2 if quick() else 5
    handle = SandboxHandle(workers=(BOOKS, PLAIN, INFRA))
    sandbox = handle.sandbox
    ways = ("kept", "from_snapshot", "from_nothing")
    samples: dict[str, list[float]] = {how: [] for how in ways}
    cpu: dict[str, list[float]] = {how: [] for how in ways}
    try:
        sandbox.reset()  # what the rounds compare starts from a reset
        first = {spec.key: sandbox.live_version(spec) for spec in sandbox.workers}
        for i in range(3 * rounds):
            how = ways[i % 3]
            sandbox.break_("bad-deploy")
            if how != "kept":
                pristine.forget(handle.home)
            if how == "from_nothing":
                shutil.rmtree(handle.home / FOLDER)
            started, busy = time.perf_counter(), _busy()
            status = sandbox.reset()
            samples[how].append((time.perf_counter() - started) * 1000)
            cpu[how].append(_busy() - busy)
            live = {spec.key: sandbox.live_version(spec) for spec in sandbox.workers}
            if not status["healthy"] or (how != "from_nothing" and live != first):
                raise SystemExit(f"reset ({how}) did not end as a fresh up: healthy={status['healthy']}, live={live}")
            first = live
    finally:
        handle.stop()
    result: dict[str, Any] = {how: {**summary(s), "median_cpu_s": round(statistics.median(cpu[how]), 2)}
                              for how, s in samples.items()}
    result["ratio_snapshot_over_kept"] = ratio(result["from_snapshot"]["median_ms"], result["kept"]["median_ms"])
    result["ratio_nothing_over_kept"] = ratio(result["from_nothing"]["median_ms"], result["kept"]["median_ms"])
    result["cpu_ratio_snapshot_over_kept"] = ratio(result["from_snapshot"]["median_cpu_s"], result["kept"]["median_cpu_s"])
    print("; ".join(f"{how}: median {result[how]['median_ms'] / 1000:.1f} s, {result[how]['median_cpu_s']:.1f} s CPU"
                    for how in ways) + f" ({rounds} rounds each)")
    print(write_result("sandbox_reset", result))


if __name__ == "__main__":
    main()
