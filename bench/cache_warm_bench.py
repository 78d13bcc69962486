"""Cache-warm throughput: ours vs a sequential loop of single requests (the runbook's curl loop)
vs the endpoint's capacity (a saturating load generator on loopback), all in the same run.
Also the peak memory of `inv remediate.cache-warm` as the key count grows (keys are streamed).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import PYTHON, REPO, quick, ratio, write_result  # noqa: E402

SECRET = "sandbox-warm-secret-0000"


def keys_file(folder: Path, tag: str, count: int) -> Path:
    path = folder / f"keys-{tag}-{count}.txt"
    path.write_text("".join(f"{tag}-{i:07d}\n" for i in range(count)))
    return path


def ours(handle: object, path: Path) -> dict[str, float]:
    env = handle.ops_env()  # type: ignore[attr-defined]
    argv = [PYTHON, "-m", "invoke", "--search-root", str(REPO), "remediate.cache-warm", "--yes", "--json",
            "--keys-file", str(path), "--batch-size", "100", "--concurrency", "16", "--min-hit-rate", "0.5"]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    took = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"cache-warm failed: {out[-2000:]}")
    warm = next(r for r in json.loads(out)["records"] if r["name"] == "warm")["outputs"]
    return {"keys": warm["total"], "warmed": warm["warmed"], "seconds": warm["seconds"],
            "keys_per_second": warm["keys_per_second"], "run_seconds": round(took, 2), "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def sequential(url: str, count: int, tag: str) -> float:
    with httpx.Client(timeout=30, headers={"X-Cache-Warm-Secret": SECRET}) as client:
        started = time.perf_counter()
        for i in range(count):
            client.post(f"{url}/admin/cache/warm", json={"isbns": [f"{tag}-{i}"]}).raise_for_status()
        return count / (time.perf_counter() - started)


async def capacity(url: str, seconds: float, concurrency: int, tag: str) -> float:
    done = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits, headers={"X-Cache-Warm-Secret": SECRET}) as client:
        async def worker(w: int) -> None:
            nonlocal done
            n = 0
            while time.perf_counter() < deadline:
                batch = [f"{tag}-{w}-{n}-{i}" for i in range(100)]
                response = await client.post(f"{url}/admin/cache/warm", json={"isbns": batch})
                if response.status_code == 200:
                    done += 100
                n += 1
        started = time.perf_counter()
        await asyncio.gather(*(worker(w) for w in range(concurrency)))
        return done / (time.perf_counter() - started)


def main() -> None:
    from ops.sandbox.constants import BOOKS, PLAIN
    from testing.sandbox import SandboxHandle

    sizes = (2_000, 10_000) if quick() else (10_000, 100_000)
    handle = SandboxHandle(workers=(BOOKS, PLAIN))  # the Workers it measured before the manuscript one
    work = Path(tempfile.mkdtemp(prefix="bench-warm-"))
    try:
        url = handle.sandbox.worker_url
        seq = sequential(url, 200 if quick() else 500, "seq")
        cap = asyncio.run(capacity(url, 5 if quick() else 15, 32, "cap"))
        runs = {n: ours(handle, keys_file(work, f"ours{n}", n)) for n in sizes}
    finally:
        handle.stop()
    small, large = runs[sizes[0]], runs[sizes[-1]]
    share = ratio(large["keys_per_second"], cap)
    speedup = ratio(large["keys_per_second"], seq)
    growth = ratio(large["peak_rss_mb"], small["peak_rss_mb"])
    result = {
        "sequential_keys_per_second": round(seq, 1), "capacity_keys_per_second": round(cap, 1), "ours": {str(k): v for k, v in runs.items()},
        "figures": [
            {"what": f"ours / endpoint capacity ({sizes[-1]:,} keys)", "value": f"{share:.0%}", "met": share >= 0.8},
            {"what": f"ours / sequential single requests ({sizes[-1]:,} keys)", "value": f"{speedup}x", "met": speedup >= 20},
            {"what": f"peak RSS {sizes[-1]:,} keys / {sizes[0]:,} keys", "value": f"{growth}x ({large['peak_rss_mb']} MB vs {small['peak_rss_mb']} MB)", "met": growth <= 1.2},
        ],
    }
    print(write_result("cache_warm", result))
    for figure in result["figures"]:
        print(f"{figure['what']}: {figure['value']} ({'met' if figure['met'] else 'missed'})")


if __name__ == "__main__":
    main()
