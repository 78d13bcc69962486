"""One redactor for every output: terminal, --json, journal, errors and reports.

A secret value is registered the moment it enters (from the environment, stdin,
a file or a generator); everything that leaves the process passes through
``redact``. Registered values shorter than ``MIN_SECRET_LEN`` are refused
rather than silently left in the clear: redacting "a" would mangle all output.
"""

from __future__ import annotations

import re
import threading
from typing import Any

__all__ = ["MARKER", "MIN_SECRET_LEN", "Redactor", "redact", "redact_data", "register", "registry"]

MARKER = "***REDACTED***"
MIN_SECRET_LEN = 4


class Redactor:
    def __init__(self) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def register(self, value: str) -> None:
        if len(value) < MIN_SECRET_LEN:
            raise ValueError(f"a secret must be at least {MIN_SECRET_LEN} characters long")
        with self._lock:
            self._values.add(value)
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def redact(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(MARKER, text) if pattern else text

    def redact_data(self, value: Any) -> Any:
        """Redact every string inside JSON-like data (dict keys included)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact(str(k)): self.redact_data(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.redact_data(v) for v in value]
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None


registry = Redactor()
register = registry.register
redact = registry.redact
redact_data = registry.redact_data
