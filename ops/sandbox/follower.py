"""Keep `wrangler dev` on the control plane's live version, and a second one on a split's other version.

wrangler dev 4.86 hot-reloads most changes of the live files within a second,
but not all of them. This small supervisor owns the wrangler dev process,
waits on the emulator's live version (the emulator answers when it changes),
checks the version the Worker's wrangler dev runs (``/__sandbox/version``,
answered by the sandbox's entry shim), and restarts wrangler dev when the Worker
has not followed within a grace period.

While the live deployment is a split of two versions, it also runs a second
wrangler dev, on a free port, from the split's folder (``live/<script>@split/``,
which the emulator writes), and writes where it answers into that folder once it
serves the split's version: the recording proxy then sends each request to one of
the two by the versions' shares. When the split ends, the second one is stopped,
so a Worker that is not split costs what it did.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ops.sandbox import loopback
from ops.sandbox.live import materialized_stamp, split_dir_name, write_split_url

GRACE_S = 2.5


POLL_S = 0.5
RECHECK_S = 5.0  # a Worker seen serving what the control plane wants is asked again only this often, unless that changes


def live_state(emulator: str, script: str, after: int | None = None) -> dict[str, Any]:
    """The emulator's live answer; with ``after`` (its last ``change``), once that changes or after ``RECHECK_S``."""
    params = {"after": after, "wait": RECHECK_S} if after is not None else None
    try:
        body = loopback.get(f"{emulator}/__emulator/live/{script}", params=params, timeout=RECHECK_S + 3).json()
        return body if isinstance(body, dict) else {}
    except (httpx.HTTPError, ValueError):
        return {}


class Watch:
    """The script's live answer, waited for on a thread: ``wake`` is set by each answer (a change, or every
    ``RECHECK_S``), so the follower learns of a deploy at once without asking the emulator twice a second."""

    def __init__(self, emulator: str, script: str, wake: threading.Event, stop: threading.Event) -> None:
        self.emulator, self.script, self.wake, self.stop = emulator, script, wake, stop
        self.latest: dict[str, Any] = {}
        threading.Thread(target=self._run, name="watch", daemon=True).start()

    def _run(self) -> None:
        change: int | None = None
        while not self.stop.is_set():
            live = live_state(self.emulator, self.script, change)
            self.latest = live
            self.wake.set()
            if isinstance(live.get("change"), int):
                change = live["change"]
            else:  # not answering (an emulator restarting), or one that does not count: ask again soon
                change = None
                self.stop.wait(POLL_S)


def served(worker: str) -> tuple[str, str] | None:
    """The version and stamp wrangler dev runs, from the sandbox's entry shim (any Worker has it, whatever its routes)."""
    try:
        body = loopback.get(f"{worker}/__sandbox/version", timeout=2).json()
        return str(body.get("version_id")), str(body.get("stamp"))
    except (httpx.HTTPError, ValueError, AttributeError):
        return None


@dataclass
class Served:
    """One wrangler dev this follower owns, and how far behind the version it should serve it has been."""

    argv: list[str]
    url: str
    live_dir: Path | None
    cwd: Path | None = None
    child: subprocess.Popen[bytes] | None = None
    behind_since: float | None = field(default=None)
    announced: bool = False  # its URL written for the proxy
    confirmed: tuple[str, str | None] | None = None  # the version and stamp it was last seen serving
    confirmed_at: float = 0.0

    def start(self) -> None:
        self.child = subprocess.Popen(self.argv, cwd=self.cwd)
        self.behind_since = None
        self.confirmed = None

    def stop(self) -> None:
        if self.child is None:
            return
        self.child.terminate()
        try:
            self.child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.child.kill()
        self.child = None

    def follow(self, wanted: str | None, name: str) -> bool:
        """Restart it when it died or lags ``wanted``; whether it serves ``wanted`` with the latest files."""
        if self.child is None or self.child.poll() is not None:
            code = None if self.child is None else self.child.returncode
            print(f"follower: {name} wrangler dev exited with {code}; restarting", flush=True)
            self.start()
            return False
        stamp = materialized_stamp(self.live_dir) if self.live_dir else None
        if (wanted, stamp) == self.confirmed and time.monotonic() - self.confirmed_at < RECHECK_S:
            return True  # every request to the Worker costs it a connection and a log line: look only when it matters
        running = served(self.url)
        if wanted is None or running is None or (running[0] == wanted and stamp in (None, running[1])):
            self.behind_since = None
            following = running is not None and running[0] == wanted
            if following and wanted is not None:
                self.confirmed, self.confirmed_at = (wanted, stamp), time.monotonic()
            return following
        self.behind_since = self.behind_since or time.monotonic()
        if time.monotonic() - self.behind_since > GRACE_S:
            print(f"follower: the {name} Worker serves {running}, the control plane {wanted} ({stamp}): "
                  "restarting wrangler dev", flush=True)
            self.stop()
            self.start()
        return False


def second_argv(argv: list[str], split_dir: Path, port: int) -> list[str]:
    """The first wrangler dev's command line, on the split's config and another port."""
    out = list(argv)
    for flag, value in (("--config", str(split_dir / "wrangler.json")), ("--port", str(port))):
        if flag in out:
            out[out.index(flag) + 1] = value
        else:
            out += [flag, value]
    return out


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.sandbox.follower")
    parser.add_argument("--emulator", required=True)
    parser.add_argument("--worker", required=True)
    parser.add_argument("--script", default="api-worker")
    parser.add_argument("--live-dir", type=Path, help="the script's live folder, whose stamp names the latest config")
    parser.add_argument("wrangler_argv", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    argv = [a for a in args.wrangler_argv if a != "--"]
    stop, wake = threading.Event(), threading.Event()

    def stopping(*_: object) -> None:
        stop.set()
        wake.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stopping)
    first = Served(argv, args.worker, args.live_dir)
    first.start()
    split_dir = args.live_dir.parent / split_dir_name(args.script) if args.live_dir else None
    if split_dir is not None:
        write_split_url(split_dir, None)  # one left by a follower that was killed
    second: Served | None = None
    watch = Watch(args.emulator, args.script, wake, stop)
    settled = False
    while True:
        wake.wait(RECHECK_S if settled else POLL_S)  # ticks while a Worker catches up, else waits for news
        wake.clear()
        if stop.is_set():
            break
        live = watch.latest
        settled = first.follow(str(live["version_id"]) if live.get("version_id") else None, "first")
        other = live.get("split_version_id")
        if split_dir is None:
            continue
        if other and (split_dir / "wrangler.json").exists():
            if second is None:
                port = free_port()
                second = Served(second_argv(argv, split_dir, port), f"http://127.0.0.1:{port}", split_dir, cwd=split_dir)
                print(f"follower: a split is live; serving its version {other} on port {port}", flush=True)
                second.start()
            following = second.follow(str(other), "split")
            settled = settled and following
            if following and not second.announced:
                write_split_url(split_dir, second.url)
                second.announced = True
        elif live and second is not None:  # the emulator answered: no split any more
            print("follower: the split ended; stopping its wrangler dev", flush=True)
            write_split_url(split_dir, None)
            second.stop()
            second = None
    if split_dir is not None:
        write_split_url(split_dir, None)
    for one in (first, second):
        if one is not None:
            one.stop()
    sys.exit(0)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
