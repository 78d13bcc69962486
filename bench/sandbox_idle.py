"""What a sandbox costs while nothing happens, against the same sandbox with a trickle of requests.

The five example Workers on real workerd, once up and settled. Interleaved rounds of two ways:
- ``idle``: nothing is sent; the recording proxies do not look at their Workers (they look only while
  requests come) and the followers wait on the emulator's answer (``live/SCRIPT?after=N``);
- ``trickle``: one request to each Worker every 4 s, which keeps each proxy looking at its Worker ten
  times a second, as every proxy did all the time before.
The CPU of the sandbox's processes (the emulator, followers, wrangler dev, workerd, providers), from /proc.

    python bench/sandbox_idle.py          # --quick for fewer, shorter rounds
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import quick, ratio, write_result  # noqa: E402


def tree_cpu(root: int) -> float:
    """Seconds of CPU used so far by every live descendant of ``root``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except OSError:
                continue
    ticks, stack = 0, list(children.get(root, []))
    while stack:
        pid = stack.pop()
        stack += children.get(pid, [])
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except OSError:
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def main() -> None:
    from ops.sandbox import loopback
    from testing.sandbox import SandboxHandle

    rounds, seconds = (2, 10.0) if quick() else (4, 20.0)
    handle = SandboxHandle()
    sandbox = handle.sandbox
    cores: dict[str, list[float]] = {"idle": [], "trickle": []}
    try:
        time.sleep(8)  # settled: every follower has confirmed its Worker
        for i in range(2 * rounds):
            how = ("idle", "trickle")[i % 2]
            stop = threading.Event()
            if how == "trickle":
                def send() -> None:
                    while not stop.wait(4.0):
                        for spec in sandbox.served_workers:
                            loopback.get(str(sandbox.url_of(spec)) + spec.health_path, timeout=10)
                threading.Thread(target=send, daemon=True).start()
            time.sleep(6.0)  # a proxy stops looking 5 s after the last request
            before, started = tree_cpu(os.getpid()), time.monotonic()
            time.sleep(seconds)
            cores[how].append((tree_cpu(os.getpid()) - before) / (time.monotonic() - started))
            stop.set()
    finally:
        handle.stop()
    result: dict[str, Any] = {how: {"median_cores": round(statistics.median(c), 3), "rounds": len(c)}
                              for how, c in cores.items()}
    result["workers"] = 5
    result["ratio_trickle_over_idle"] = ratio(result["trickle"]["median_cores"], result["idle"]["median_cores"])
    print(f"idle: {result['idle']['median_cores']:.3f} cores; a request per Worker every 4 s: "
          f"{result['trickle']['median_cores']:.3f} cores ({rounds} rounds of {seconds:.0f} s each)")
    print(write_result("sandbox_idle", result))


if __name__ == "__main__":
    main()
