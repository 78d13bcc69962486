"""What the recording proxies saw: one record per Worker invocation, in a bounded ring.

Each record carries what Cloudflare's ``workersInvocationsAdaptive`` dataset
keeps of an invocation: when it started, the script and the version that served
it, the *invocation* status (``success``, ``clientDisconnected``,
``scriptThrewException``, ``exceededResources``, ``internalError``; not the HTTP
status, see ``ops.sandbox.emulator.graphql``) and the wall time in
microseconds. The HTTP status is kept too, for the sandbox's own views; the
dataset does not expose it.

An ingestion lag, settable at run time, hides records younger than ``lag``
seconds, as production analytics arrive late. ``wall_time_p95`` chooses which
schema the GraphQL API answers with: with a ``wallTimeP95`` quantile or without
one (the default; ``OPS_EMULATOR_WALL_TIME_P95=1`` or the admin setting turns it on).
``fail_next`` queues GraphQL error messages: each of the next queries is answered
with one of them (e.g. Cloudflare's "rate limiter budget depleted, please try
again later"), as a fault to rehearse.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

RING = 100_000
ERROR_STATUSES = frozenset({"scriptThrewException", "exceededResources", "internalError"})


@dataclass(frozen=True)
class Invocation:
    started: float           # epoch seconds
    script: str
    version: str | None
    status: str              # the invocation status
    http_status: int | None  # None when the Worker never answered
    wall_us: int

    @property
    def is_error(self) -> bool:
        return self.status in ERROR_STATUSES


def wall_time_p95_default() -> bool:
    return os.environ.get("OPS_EMULATOR_WALL_TIME_P95", "").lower() in ("1", "true", "yes")


class Invocations:
    def __init__(self, size: int = RING) -> None:
        self._ring: deque[Invocation] = deque(maxlen=size)
        self._lock = threading.Lock()
        self.lag_seconds = 0.0
        self.wall_time_p95 = wall_time_p95_default()
        self.fail_next: deque[str] = deque()

    def next_failure(self) -> str | None:
        with self._lock:
            return self.fail_next.popleft() if self.fail_next else None

    def add(self, invocation: Invocation) -> None:
        with self._lock:
            self._ring.append(invocation)

    def visible(self, now: float | None = None) -> list[Invocation]:
        """The records analytics would show now: those older than the ingestion lag."""
        cutoff = (time.time() if now is None else now) - self.lag_seconds
        with self._lock:
            return [i for i in self._ring if i.started <= cutoff]

    def all(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(i) for i in self._ring]

    def clear(self) -> None:
        with self._lock:
            self._ring.clear()
