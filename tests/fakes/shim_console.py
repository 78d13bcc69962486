"""The console header the sandbox's shim (ops/sandbox/shim.mjs) answers with, for loopback Workers that stand in for it."""

from __future__ import annotations

import base64
import json
import time


def console_header(*lines: tuple[str, str], truncated: bool = False) -> str:
    """``(level, text)`` pairs as the shim encodes them: base64 of ``{"logs": [...], "truncated": ...}``."""
    now = int(time.time() * 1000)
    logs = [{"message": [text], "level": level, "timestamp": now} for level, text in lines]
    return base64.b64encode(json.dumps({"logs": logs, "truncated": truncated}).encode()).decode()
