"""The sandbox's users: steady requests to a sandbox Worker, the traffic a Worker in production always has.

The sandbox's Workers get no requests unless someone sends them. A harm that shows only in a
share of the requests (``partial-regression``: 8% of them fail) cannot be judged without
requests, so the scenario starts users on the Worker it breaks, and a gradual rollback's
judge then compares the versions on their requests as it would in production. They run as
a sandbox part (``users-<worker>``: a pid file and a log under ``.sandbox/``) until
``inv sandbox.reset`` or ``sandbox.down`` stops them, or for at most ``--seconds``.

Open loop, as independent users: requests arrive at random (Poisson) at ``--rate`` per
second whatever the Worker's speed, with at most ``--concurrency`` in flight, so a slow or
hung version holds that many and no more. Every minute the log says what they got.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timezone

import httpx

from ops.errors import SandboxError
from ops.sandbox.constants import WorkerSpec
from ops.sandbox.layout import Layout, with_client
from ops.sandbox.processes import Processes

__all__ = ["CONCURRENCY", "RATE", "SECONDS", "SEEN", "argv", "main", "part_name", "start", "wait_seen"]

RATE = 30.0  # requests per second: a 10% step of a ladder gets 3 a second, the judge's sample in about a minute
CONCURRENCY = 24  # in flight at most: a version 300 ms slower at RATE needs about 10
SECONDS = 1800.0  # users left running by a forgotten scenario stop by themselves after this
SEEN = 50  # requests a version has in analytics before a scenario that starts users returns: its harm shows
REPORT_S = 60.0


def part_name(worker_key: str) -> str:
    """The sandbox part (pid file, log) of the users of one Worker."""
    return f"users-{worker_key}"


def argv(python: str, url: str, *, rate: float = RATE, seconds: float = SECONDS) -> list[str]:
    return [python, "-m", "ops.sandbox.users", "--url", url, "--rate", f"{rate:g}", "--seconds", f"{seconds:g}"]


def start(sb: Layout, spec: WorkerSpec) -> str:
    """Users on the Worker's health path, through its recording proxy (what analytics see); restarted if running."""
    part, processes = part_name(spec.key), Processes(sb.home)
    processes.stop(part)
    url = f"{sb.url_of(spec)}{spec.health_path}"
    sb.say(f"starting the {part}: {RATE:g} requests/s to {url} until sandbox.reset (log: {processes.log(part)})")
    processes.start(part, argv(sys.executable, url), lambda: True,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"}, cwd=sb.root)
    return url


def wait_seen(sb: Layout, spec: WorkerSpec, version: str, since: datetime, timeout: float = 60) -> int:
    """Wait until analytics show ``SEEN`` requests of ``version`` since ``since`` (what a user who runs a remediation
    next sees); how many they show. A sandbox that cannot serve them is an error naming the users' log."""
    from ops.cloudflare.analytics import invocations

    deadline, seen = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        numbers = with_client(sb, lambda c: invocations(c, spec.script, versions=[version], since=since,
                                                        until=datetime.now(timezone.utc)))
        seen = int(((numbers.get("by_version") or {}).get(version) or {}).get("requests") or 0)
        if seen >= SEEN:
            return seen
        time.sleep(1)
    raise SandboxError(f"the users sent {seen} requests to version {version} of {spec.script} in {timeout:.0f}s "
                       f"({SEEN} needed); see {Processes(sb.home).log(part_name(spec.key))}")


class Users:
    """``concurrency`` senders sharing one arrival schedule at ``rate`` per second."""

    def __init__(self, url: str, rate: float, concurrency: int, seconds: float, seed: int | None = None) -> None:
        self.url, self.rate, self.concurrency = url, rate, concurrency
        self.stop = threading.Event()
        self.until = time.monotonic() + seconds
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.next_at = time.monotonic()
        self.answers: Counter[str] = Counter()

    def _slot(self) -> float:
        """When this sender's next request is due: the schedule's next arrival."""
        with self.lock:
            due = max(self.next_at, time.monotonic() - 1.0)  # a backlog of more than a second is not made up for
            self.next_at = due + self.random.expovariate(self.rate)
            return due

    def _send(self, client: httpx.Client) -> None:
        while not self.stop.is_set() and time.monotonic() < self.until:
            wait = self._slot() - time.monotonic()
            if wait > 0 and self.stop.wait(wait):
                return
            try:
                answer = f"{client.get(self.url).status_code // 100}xx"
            except httpx.HTTPError as exc:
                answer = type(exc).__name__
            with self.lock:
                self.answers[answer] += 1

    def run(self) -> None:
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
        with httpx.Client(timeout=30, limits=limits) as client:  # one pool: a client per sender costs seconds to make
            self._run(client)

    def _run(self, client: httpx.Client) -> None:
        senders = [threading.Thread(target=self._send, args=(client,), daemon=True) for _ in range(self.concurrency)]
        for sender in senders:
            sender.start()
        while not self.stop.wait(min(REPORT_S, max(0.0, self.until - time.monotonic()))) and time.monotonic() < self.until:
            self.report()
        self.stop.set()
        for sender in senders:
            sender.join(timeout=35)
        self.report()

    def report(self) -> None:
        with self.lock:
            counts, self.answers = dict(self.answers), Counter()
        print(f"users: {sum(counts.values())} requests to {self.url}: "
              + (", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none"), flush=True)


def main(args: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ops.sandbox.users", description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="what the users ask for, e.g. the Worker's health URL")
    parser.add_argument("--rate", type=float, default=RATE, help="requests per second, on average")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="requests in flight at most")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="stop after this long")
    parser.add_argument("--seed", type=int, default=None)
    options = parser.parse_args(args)
    if options.rate <= 0 or options.concurrency < 1 or options.seconds <= 0:
        parser.error("--rate and --seconds must be above 0, --concurrency at least 1")
    users = Users(options.url, options.rate, options.concurrency, options.seconds, options.seed)
    signal.signal(signal.SIGTERM, lambda *_: users.stop.set())
    signal.signal(signal.SIGINT, lambda *_: users.stop.set())
    users.run()


if __name__ == "__main__":
    main()
