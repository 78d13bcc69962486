"""What a sandbox reset costs from the snapshot, against a reset from nothing, in the same run.

The session sandbox of the tests (the books, plain and infrastructure Workers on real workerd).
Each round breaks the books Worker (bad-deploy), then resets: alternately from the snapshot
(ops.sandbox.snapshot: the emulator's state and the Workers' copies as the last fresh up left
them once deployed) and from nothing (the snapshot removed first: three real `wrangler deploy`s).
Both must end healthy, serving the first version again.

    python bench/sandbox_reset.py          # --quick for fewer rounds
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import quick, ratio, summary, write_result  # noqa: E402


def main() -> None:
    from ops.sandbox.constants import BOOKS, INFRA, PLAIN
    from ops.sandbox.snapshot import FOLDER
    from testing.sandbox import SandboxHandle

    rounds = 2 if quick() else 5
    handle = SandboxHandle(workers=(BOOKS, PLAIN, INFRA))
    sandbox = handle.sandbox
    first = {spec.key: sandbox.live_version(spec) for spec in sandbox.workers}
    samples: dict[str, list[float]] = {"from_snapshot": [], "from_nothing": []}
    try:
        for i in range(2 * rounds):
            how = "from_snapshot" if i % 2 == 0 else "from_nothing"
            sandbox.break_("bad-deploy")
            if how == "from_nothing":
                shutil.rmtree(handle.home / FOLDER)
            started = time.perf_counter()
            status = sandbox.reset()
            samples[how].append((time.perf_counter() - started) * 1000)
            live = {spec.key: sandbox.live_version(spec) for spec in sandbox.workers}
            if not status["healthy"] or (how == "from_snapshot" and live != first):
                raise SystemExit(f"reset {how} did not end as a fresh up: healthy={status['healthy']}, live={live}")
            first = live
    finally:
        handle.stop()
    result: dict[str, Any] = {how: summary(s) for how, s in samples.items()}
    result["ratio_nothing_over_snapshot"] = ratio(result["from_nothing"]["median_ms"], result["from_snapshot"]["median_ms"])
    print(f"reset from the snapshot: median {result['from_snapshot']['median_ms'] / 1000:.1f} s; "
          f"from nothing: {result['from_nothing']['median_ms'] / 1000:.1f} s "
          f"(x{result['ratio_nothing_over_snapshot']}), {rounds} rounds each")
    print(write_result("sandbox_reset", result))


if __name__ == "__main__":
    main()
