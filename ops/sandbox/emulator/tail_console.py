"""The Worker's console output, read from its `wrangler dev` log as wrangler prints it.

`wrangler dev` prints a Worker's ``console.warn`` as ``▲ [WARNING] text`` and
``console.error`` as ``✘ [ERROR] text`` (in colour), and ``console.log`` as the
bare text when its ``--log-level`` is ``log`` or ``debug`` (the sandbox runs it at
``warn``, so only warnings and errors reach the log). wrangler's own lines
(``[wrangler:info] …``, with what follows them up to a blank line) and the
sandbox follower's (``follower: …``) are not the Worker's and are skipped.

The log has no request ids: a line belongs to the invocation that was running
when the emulator read it, or, read just after an answer, to the invocation that
answered last (``ops.sandbox.emulator.tail``). Lines printed by concurrent requests
of one Worker may be given to the wrong one of them.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from pathlib import Path
from typing import Callable

from ops.sandbox.emulator.tail_events import ConsoleLine

ANSI = re.compile(r"\x1b\[[0-9;]*m")
DECORATED = re.compile(r"^\s*(?:▲|✘|X)?\s*\[(WARNING|ERROR)\]\s?(.*)$")
LEVELS = {"WARNING": "warn", "ERROR": "error"}
POLL_S = 0.05
KEPT = 2000


class ConsoleParser:
    """Turns the log's lines into the Worker's console lines, one call per line."""

    def __init__(self) -> None:
        self._in_wrangler_block = False

    def feed(self, raw: str) -> tuple[str, str] | None:
        line = ANSI.sub("", raw).rstrip("\r\n")
        if not line.strip():
            self._in_wrangler_block = False
            return None
        decorated = DECORATED.match(line)
        if decorated:
            self._in_wrangler_block = False
            return LEVELS[decorated.group(1)], decorated.group(2).strip()
        if line.startswith("[wrangler:") or line.startswith("follower:"):
            self._in_wrangler_block = True
            return None
        if self._in_wrangler_block or line[0].isspace():
            return None
        return "log", line


class ConsoleFollower:
    """Follows one log file from its current end, keeping the recent console lines."""

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.lines: deque[ConsoleLine] = deque(maxlen=KEPT)
        self.lock = threading.Lock()
        self._reading = threading.Lock()  # the follower thread and the hub both read
        self._clock = clock
        self._stopped = threading.Event()
        self._offset = path.stat().st_size if path.exists() else 0
        self._parser = ConsoleParser()
        self._partial = b""
        threading.Thread(target=self._run, name=f"console-{path.name}", daemon=True).start()

    def stop(self) -> None:
        self._stopped.set()

    def read_now(self) -> None:
        """Take in what the log has now (the follower also does so every ``POLL_S``)."""
        with self._reading:
            self._read()

    def _read(self) -> None:
        try:
            with self.path.open("rb") as log:
                size = log.seek(0, 2)
                if size < self._offset:  # truncated or replaced: start over
                    self._offset, self._partial = 0, b""
                log.seek(self._offset)
                data = log.read()
        except OSError:
            return
        self._offset += len(data)
        *complete, self._partial = (self._partial + data).split(b"\n")
        now, wall = self._clock(), time.time()
        with self.lock:
            for raw in complete:
                parsed = self._parser.feed(raw.decode(errors="replace"))
                if parsed is not None:
                    self.lines.append(ConsoleLine(parsed[0], parsed[1], now, wall))

    def take(self, since: float, until: float) -> list[ConsoleLine]:
        """The lines read in [since, until]; each goes to one event only."""
        with self.lock:
            chosen = [line for line in self.lines if since <= line.at <= until]
            for line in chosen:
                self.lines.remove(line)
        return chosen

    def _run(self) -> None:
        while not self._stopped.wait(POLL_S):
            self.read_now()
