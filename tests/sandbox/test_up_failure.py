"""A failed `sandbox.up` stops every part it started and names the part that failed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ops.errors import SandboxError
from ops.sandbox.constants import PLAIN, PORT_OFFSETS
from ops.sandbox.manager import Sandbox
from ops.sandbox.ports import Ports

from testing.workspace import REPO

pytestmark = [pytest.mark.sandbox,
              pytest.mark.skipif(not (REPO / "node_modules" / ".bin" / "wrangler").exists(),
                                 reason="the npm parts are not installed (./scripts/bootstrap)")]


def break_the_copy(sandbox: Sandbox) -> None:
    """The sandbox's copy of the plain Worker (which up keeps when it exists), with a syntax error in its code."""
    import shutil

    shutil.copytree(REPO / "examples" / PLAIN.example, sandbox.dir_of(PLAIN))
    entry = sandbox.dir_of(PLAIN) / "src" / "index.js"
    entry.write_text(entry.read_text(encoding="utf-8") + "\nexport const broken = (;\n", encoding="utf-8")


def processes_naming(*words: str) -> list[str]:
    """The command lines of running processes that contain any of ``words``."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if proc.name.isdigit() and int(proc.name) != os.getpid() and any(w in argv for w in words):
            found.append(argv)
    return found


def test_a_broken_worker_stops_the_parts_already_started_and_is_named(tmp_path: Path) -> None:
    home = tmp_path / "home"
    sandbox = Sandbox(REPO, home, Ports(Ports.choose().base), workers=(PLAIN,))
    break_the_copy(sandbox)
    with pytest.raises(SandboxError) as caught:
        sandbox.up()
    said = str(caught.value)
    assert said.startswith("sandbox.up failed: the deploy of plain-api: wrangler deploy failed (1): "), said
    assert "Build failed" in said and said.endswith("; stopped what it had started (providers, emulator)"), said
    assert not list((home / "pids").glob("*.pid"))
    providers = ",".join(str(p) for p in sandbox.ports.providers().values())
    assert processes_naming(str(home), providers) == []  # the emulator, the providers: gone
    assert sandbox.ports.taken(tuple(PORT_OFFSETS)) == []


def test_an_up_that_ends_with_the_worker_unhealthy_says_why_and_stops_what_it_started(tmp_path: Path) -> None:
    from dataclasses import replace

    home = tmp_path / "home"
    missing = replace(PLAIN, health_path="/__no-such-health-path", health_status=200)  # the plain Worker answers 404
    sandbox = Sandbox(REPO, home, Ports(Ports.choose().base), workers=(missing,))
    status = sandbox.up(stop_if_unhealthy=True)
    assert not status["healthy"] and status["stopped"] == ["providers", "emulator", "worker-plain"], status
    why = status["parts"]["worker"]["why"]
    assert why[0].startswith("it answered 404 on http://127.0.0.1:") and why[-1].startswith("log: "), why
    assert not list((home / "pids").glob("*.pid"))
    assert processes_naming(str(home)) == []
