"""Faults switched on at run time: latency, a 5xx rate, 429 with Retry-After, dropped connections, forced errors."""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Forced:
    method: str
    path: re.Pattern[str]
    code: int
    status: int
    message: str
    times: int | None  # None: every time


@dataclass
class Faults:
    latency_ms: float = 0.0
    error_rate: float = 0.0          # share of requests answered 500 (code 10013-style internal error)
    rate_limit_rate: float = 0.0     # share of requests answered 429
    retry_after: int = 1
    drop_rate: float = 0.0           # share of connections closed without an answer
    mutating_only: bool = False      # apply the random faults only to mutating requests
    forced: list[Forced] = field(default_factory=list)
    seed: int = 0
    rng: random.Random = field(default_factory=random.Random)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Faults:
        forced = [Forced(f.get("method", "*").upper(), re.compile(f["path"]), int(f["code"]), int(f.get("status", 400)),
                         str(f.get("message", "forced by the sandbox")), f.get("times")) for f in body.get("forced", [])]
        seed = int(body.get("seed", 0))
        return cls(float(body.get("latency_ms", 0)), float(body.get("error_rate", 0)),
                   float(body.get("rate_limit_rate", 0)), int(body.get("retry_after", 1)),
                   float(body.get("drop_rate", 0)), bool(body.get("mutating_only", False)), forced, seed,
                   random.Random(seed))

    def as_json(self) -> dict[str, Any]:
        return {"latency_ms": self.latency_ms, "error_rate": self.error_rate, "rate_limit_rate": self.rate_limit_rate,
                "retry_after": self.retry_after, "drop_rate": self.drop_rate, "mutating_only": self.mutating_only,
                "seed": self.seed, "forced": [{"method": f.method, "path": f.path.pattern, "code": f.code,
                                               "status": f.status, "message": f.message, "times": f.times}
                                              for f in self.forced]}

    def decide(self, method: str, path: str) -> tuple[str, Any]:
        """('ok', None) | ('drop', None) | ('error', (status, code, message, retry_after))."""
        with self.lock:
            for forced in self.forced:
                if forced.method in ("*", method) and forced.path.search(path) and forced.times != 0:
                    if forced.times is not None:
                        forced.times -= 1
                    return "error", (forced.status, forced.code, forced.message, None)
            if self.mutating_only and method in ("GET", "HEAD"):
                return "ok", None
            roll = self.rng.random()
            if roll < self.drop_rate:
                return "drop", None
            roll -= self.drop_rate
            if roll < self.rate_limit_rate:
                return "error", (429, 971, "Please wait and consider throttling your request speed", self.retry_after)
            roll -= self.rate_limit_rate
            if roll < self.error_rate:
                return "error", (500, 10013, "An unknown error has occurred", None)
            return "ok", None
