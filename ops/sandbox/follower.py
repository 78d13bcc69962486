"""Keep `wrangler dev` on the control plane's live version.

wrangler dev 4.86 hot-reloads most changes of the live files within a second,
but not all of them. This small supervisor owns the wrangler dev process,
watches the emulator's live version and the version the Worker's wrangler dev
runs (``/__sandbox/version``, answered by the sandbox's entry shim), and restarts
wrangler dev when the Worker has not followed within a grace period.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from ops.sandbox.live import materialized_stamp

GRACE_S = 2.5


POLL_S = 0.5
_client = httpx.Client(timeout=3)  # one keep-alive client: a new one per poll costs more CPU than the poll


def live_version(emulator: str, script: str) -> str | None:
    try:
        live = _client.get(f"{emulator}/__emulator/live/{script}").json()["version_id"]
        return str(live) if live else None
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None


def served(worker: str) -> tuple[str, str] | None:
    """The version and stamp wrangler dev runs, from the sandbox's entry shim (any Worker has it, whatever its routes)."""
    try:
        body = _client.get(f"{worker}/__sandbox/version", timeout=2).json()
        return str(body.get("version_id")), str(body.get("stamp"))
    except (httpx.HTTPError, ValueError, AttributeError):
        return None


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.sandbox.follower")
    parser.add_argument("--emulator", required=True)
    parser.add_argument("--worker", required=True)
    parser.add_argument("--script", default="books-api")
    parser.add_argument("--live-dir", type=Path, help="the script's live folder, whose stamp names the latest config")
    parser.add_argument("wrangler_argv", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    argv = [a for a in args.wrangler_argv if a != "--"]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    child = subprocess.Popen(argv)
    behind_since: float | None = None
    while not stop.wait(POLL_S):
        if child.poll() is not None:
            print(f"follower: wrangler dev exited with {child.returncode}; restarting", flush=True)
            child = subprocess.Popen(argv)
            continue
        live, running = live_version(args.emulator, args.script), served(args.worker)
        stamp = materialized_stamp(args.live_dir) if args.live_dir else None
        if live is None or running is None or (running[0] == live and stamp in (None, running[1])):
            behind_since = None
            continue
        behind_since = behind_since or time.monotonic()
        if time.monotonic() - behind_since > GRACE_S:
            print(f"follower: the Worker serves {running}, the control plane {live} ({stamp}): restarting wrangler dev", flush=True)
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
            child = subprocess.Popen(argv)
            behind_since = None
    child.terminate()
    try:
        child.wait(timeout=10)
    except subprocess.TimeoutExpired:
        child.kill()
    sys.exit(0)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
