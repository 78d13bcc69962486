"""How long a verified rollback takes at the sandbox's analytics pace against production's, in the same run.

The sandbox's targets read one analytics window every 2 s (``analytics_interval = 2``: the emulator's
analytics arrive at once and have no quota); production's default is 15 s. Each round breaks the
books Worker (bad-deploy), then runs ``inv remediate.rollback --yes`` until verified, alternately with
the sandbox's targets file and with the same file without that line. Both must end verified.

    python bench/verify_pace.py          # --quick for fewer rounds
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import PYTHON, REPO, quick, ratio, summary, write_result  # noqa: E402


def main() -> None:
    from ops.sandbox.constants import BOOKS
    from testing.sandbox import SandboxHandle

    rounds = 2 if quick() else 4
    handle = SandboxHandle(workers=(BOOKS,))
    production = handle.home / "targets-production-pace.toml"
    production.write_text("".join(line for line in handle.targets.read_text(encoding="utf-8").splitlines(keepends=True)
                                  if not line.startswith("analytics_interval")), encoding="utf-8")
    files = {"sandbox_2s": handle.targets, "production_15s": production}
    samples: dict[str, list[float]] = {pace: [] for pace in files}
    try:
        for i in range(2 * rounds):
            pace = list(files)[i % 2]
            handle.sandbox.reset()
            handle.sandbox.break_("bad-deploy")
            started = time.perf_counter()
            done = subprocess.run([PYTHON, "-m", "invoke", "--search-root", str(REPO), "remediate.rollback", "--yes", "--json"],
                                  env=handle.ops_env(OPS_TARGETS_FILE=str(files[pace])), capture_output=True, text=True)
            samples[pace].append((time.perf_counter() - started) * 1000)
            if done.returncode != 0 or not json.loads(done.stdout)["message"].startswith("verified:"):
                raise SystemExit(f"the rollback ({pace}) did not end verified: {done.stdout[-1500:]}")
    finally:
        handle.stop()
    result: dict[str, Any] = {pace: summary(s) for pace, s in samples.items()}
    result["ratio_production_over_sandbox"] = ratio(result["production_15s"]["median_ms"], result["sandbox_2s"]["median_ms"])
    print(f"bad-deploy to verified: every 2 s {result['sandbox_2s']['median_ms'] / 1000:.1f} s, every 15 s "
          f"{result['production_15s']['median_ms'] / 1000:.1f} s (x{result['ratio_production_over_sandbox']}), {rounds} rounds each")
    print(write_result("verify_pace", result))


if __name__ == "__main__":
    main()
