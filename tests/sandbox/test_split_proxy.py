"""A split deployment through the recording proxy: each request goes to one of two Workers by the versions' shares.

Two loopback "Workers" (real HTTP), each answering as the sandbox's entry shim does for
its own version, stand behind a real recording proxy in a real emulator; the second one
is announced in the split's folder as the follower announces its second wrangler dev.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from ops.sandbox.emulator import start_emulator
from ops.sandbox.emulator.__main__ import load_seed
from ops.sandbox.live import materialize, split_dir_name, write_split_url

from testing.loop_worker import LoopWorker, requests_by_version

TOKEN, SCRIPT = "split-test-token", "split-api"
HTTP = httpx.Client(timeout=5)  # one keep-alive client: a new one per request costs more than the request


def deployment(*shares: tuple[str, int]) -> dict[str, Any]:
    return {"scripts": {SCRIPT: {"deployments": [{"versions": [{"version_id": v, "percentage": p} for v, p in shares]}]}}}


@pytest.fixture
def split_world(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, Any]]:
    first, second = LoopWorker("v-old"), LoopWorker("v-new")
    live_dir = tmp_path / "live"
    split_dir = live_dir / split_dir_name(SCRIPT)
    write_split_url(split_dir, second.url)
    seed = {**(load_seed("default") or {}), **deployment(*request.param)}
    emulator = start_emulator(tmp_path / "state.json", seed=seed, token=TOKEN)
    proxy = emulator.add_proxy(SCRIPT, first.url, split_dir=split_dir)
    yield proxy.url, emulator
    emulator.stop()
    first.stop()
    second.stop()


def wait_for_second(url: str) -> None:
    """The proxy looks at the split and the second Worker every 0.1 s while requests come; until then every request
    goes to the first."""
    for _ in range(200):
        if HTTP.get(f"{url}/probe").json()["version_id"] == "v-new":
            return
    raise AssertionError("the proxy never sent a request to the split's second Worker")


@pytest.mark.parametrize("split_world", [(("v-old", 70), ("v-new", 30))], indirect=True)
def test_a_split_sends_each_request_to_one_version_by_its_share_and_analytics_name_it(split_world: tuple[str, Any]) -> None:
    url, emulator = split_world
    wait_for_second(url)
    httpx.delete(f"{emulator.url}/__emulator/invocations", headers=emulator.admin_headers).raise_for_status()
    answered = [HTTP.get(f"{url}/r").json()["version_id"] for _ in range(200)]
    new = answered.count("v-new")
    assert 30 <= new <= 90, new  # 30% of 200 is 60, with a standard deviation of 6.5
    assert requests_by_version(emulator, TOKEN, SCRIPT) == {"v-old": 200 - new, "v-new": new}  # tagged with who answered


@pytest.mark.parametrize("split_world", [(("v-old", 100),)], indirect=True)
def test_without_a_split_the_second_worker_gets_nothing(split_world: tuple[str, Any]) -> None:
    url, emulator = split_world
    answered = {HTTP.get(f"{url}/r").json()["version_id"] for _ in range(30)}
    assert answered == {"v-old"}


def test_a_deployment_that_keeps_the_version_rewrites_none_of_its_files(tmp_path: Path) -> None:
    """wrangler dev reloads on any write, holding requests meanwhile: a split's step that keeps the first
    wrangler dev's version (10% to the target, 90% still on it) must not touch its files."""
    from dataclasses import replace

    from ops.sandbox.contract import LiveVersion, Module

    live = LiveVersion(script="w", version_id="v1", deployment_id="d1", main_module="index.js",
                       modules=(Module("index.js", "application/javascript+module", b"export default {}"),),
                       bindings=(), secrets={"KEY": "k"})
    materialize(live, tmp_path)
    written = {p: p.stat().st_ino for p in tmp_path.rglob("*") if p.is_file()}
    materialize(replace(live, deployment_id="d2"), tmp_path)
    assert {p: p.stat().st_ino for p in tmp_path.rglob("*") if p.is_file()} == written
    materialize(replace(live, secrets={"KEY": "rotated"}), tmp_path)  # a change is still written
    assert (tmp_path / ".dev.vars").stat().st_ino != written[tmp_path / ".dev.vars"]
