"""Which served Workers a reset may leave running: those that nothing has reached since the last ``up``.

Restarting a Worker's `wrangler dev` is most of what a reset costs: node, a bundle and two
workerd processes, about 3 s of CPU each. A Worker that no request, queue batch or cron has
reached since the last ``up`` still holds exactly what that ``up`` left: its local storage (KV,
Durable Objects) unwritten, its isolate's memory as it started, the snapshot's version live.

At the end of each ``up``, the sandbox keeps what each Worker's entry shim says of itself
(``/__sandbox/version``): the version and stamp it serves, a random id drawn when its isolate
started, and how many invocations it has handled. The follower's own looks at that path are
not counted; everything else is, whether it came through the recording proxy, straight to
`wrangler dev`, or over the emulator's KV and queue bridges. A reset keeps a Worker whose shim
still says exactly that; any deploy, reload, restart or invocation since makes it restart.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from ops.sandbox.constants import WorkerSpec
from ops.sandbox.layout import Layout

FOLDER = "pristine"
FIELDS = ("version_id", "stamp", "boot", "handled")


def record(layout: Layout, spec: WorkerSpec) -> None:
    said = _said(layout, spec)
    path = layout.home / FOLDER / f"{spec.key}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(said), encoding="utf-8")


def untouched(layout: Layout, spec: WorkerSpec) -> bool:
    try:
        recorded = json.loads((layout.home / FOLDER / f"{spec.key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(recorded.get("boot")) and recorded == _said(layout, spec)


def forget(home: Path) -> None:
    shutil.rmtree(home / FOLDER, ignore_errors=True)


def _said(layout: Layout, spec: WorkerSpec) -> dict[str, Any]:
    said = layout.served(spec)
    return {name: said.get(name) for name in FIELDS}
