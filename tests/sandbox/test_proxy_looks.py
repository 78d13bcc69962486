"""The recording proxy asks its Worker which version it runs only while requests come.

An idle sandbox must cost nothing: four test workers' sandboxes, five Workers each, asked ten times a
second, kept a fifth of a core busy per sandbox. A loopback Worker counts the proxy's looks; a real
emulator's analytics say which version a request was recorded under.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from ops.sandbox.emulator import proxy, start_emulator
from ops.sandbox.emulator.__main__ import load_seed

from testing.loop_worker import LoopWorker, requests_by_version

TOKEN, SCRIPT = "looks-test-token", "looks-api"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, LoopWorker, Any]]:
    monkeypatch.setattr(proxy, "QUIET_S", 0.5)
    worker = LoopWorker("v1")
    emulator = start_emulator(tmp_path / "state.json", seed=load_seed("default") or {}, token=TOKEN)
    yield emulator.add_proxy(SCRIPT, worker.url).url, worker, emulator
    emulator.stop()
    worker.stop()


def test_an_idle_proxy_asks_its_worker_nothing(world: tuple[str, LoopWorker, Any]) -> None:
    url, worker, _ = world
    time.sleep(1.0)
    assert worker.looks == 0  # nothing came: nothing asked
    httpx.get(f"{url}/r", timeout=5).raise_for_status()
    time.sleep(0.3)
    assert worker.looks >= 2  # looked before routing, and polls while requests come
    time.sleep(proxy.QUIET_S + 0.3)
    quiet = worker.looks
    time.sleep(1.0)
    assert worker.looks == quiet


def test_a_request_after_a_quiet_spell_is_recorded_under_the_version_running_now(
        world: tuple[str, LoopWorker, Any]) -> None:
    url, worker, emulator = world
    httpx.get(f"{url}/r", timeout=5).raise_for_status()  # the proxy learns v1
    time.sleep(proxy.QUIET_S + 0.5)
    worker.version, worker.tagged = "v2", False  # deployed while nobody asked; its answers no longer say
    httpx.get(f"{url}/r", timeout=5).raise_for_status()
    assert requests_by_version(emulator, TOKEN, SCRIPT) == {"v1": 1, "v2": 1}
