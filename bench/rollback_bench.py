"""Rollback end to end, from `bad-deploy` to verified health: `inv remediate.rollback --yes` against
`wrangler rollback --yes` plus a curl-style health loop, on the same sandbox, in the same run."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import PYTHON, REPO, quick, ratio, write_result  # noqa: E402


def wait_healthy(url: str, version: str | None, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{url}/health", timeout=2)
            if response.status_code == 200 and (version is None or response.json().get("version_id") == version):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the Worker did not become healthy")


def ours(handle: object) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run([PYTHON, "-m", "invoke", "--search-root", str(REPO), "remediate.rollback", "--yes", "--json"],
                          env=handle.ops_env(), capture_output=True, text=True)  # type: ignore[attr-defined]
    total = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"rollback failed: {done.stdout[-1500:]}")
    result = json.loads(done.stdout)
    events = [json.loads(line) for line in Path(result["journal"]).read_text().splitlines()]
    mono = {e["event"]: e["mono"] for e in events}
    step = next(e for e in events if e["event"] == "step-end")
    probes = sum(e.get("duration_ms") or 0 for e in events if e["event"] == "precondition") / 1000
    return {"total_s": total, "probes_s": probes, "control_plane_s": step["duration_ms"] / 1000,
            "verify_s": mono["verified"] - mono["step-end"], "startup_s": total - (mono["run-end"] - mono["run-start"])}


def baseline(handle: object) -> dict[str, float]:
    sandbox = handle.sandbox  # type: ignore[attr-defined]
    started = time.perf_counter()
    sandbox.wrangler("rollback", "--yes", "--message", "bench")
    control = time.perf_counter() - started
    wait_healthy(sandbox.worker_url, None)
    return {"total_s": time.perf_counter() - started, "control_plane_s": control}


def main() -> None:
    from ops.sandbox.constants import BOOKS, PLAIN
    from testing.sandbox import SandboxHandle

    runs = 2 if quick() else 5
    handle = SandboxHandle(workers=(BOOKS, PLAIN))  # the Workers it measured before the manuscript one
    mine, theirs = [], []
    try:
        for i in range(runs):
            if i:  # each round deploys two bad versions; a fresh sandbox per round keeps the rounds alike
                handle.sandbox.reset()
            handle.sandbox.break_("bad-deploy")
            mine.append(ours(handle))
            handle.sandbox.break_("bad-deploy")
            theirs.append(baseline(handle))
    finally:
        handle.stop()
    med = {k: round(statistics.median(r[k] for r in mine), 2) for k in mine[0]}
    base = {k: round(statistics.median(r[k] for r in theirs), 2) for k in theirs[0]}
    result = {"runs": runs, "ours_median_s": med, "baseline_median_s": base,
              "figures": [{"what": "inv remediate.rollback (verified) / wrangler rollback + health loop", "value": f"{ratio(med['total_s'], base['total_s'])}x", "met": None},
                          {"what": "ours: startup / probes / control plane / verification (s)",
                           "value": f"{med['startup_s']} / {med['probes_s']} / {med['control_plane_s']} / {med['verify_s']}", "met": None}]}
    print(write_result("rollback", result))
    for figure in result["figures"]:
        print(f"{figure['what']}: {figure['value']}")


if __name__ == "__main__":
    main()
