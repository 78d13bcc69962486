"""The emulator's live answer can be waited on: a follower hears of a deploy at once without asking twice a second.

A real emulator, deployed to with the API's own upload and deployment requests.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from ops.sandbox.emulator import EmulatorHandle

from tests.cloudflare.uploads import deploy, emulator_in, upload

SCRIPT = "waited-api"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorHandle]:
    yield from emulator_in(tmp_path)


def live(emulator: EmulatorHandle, **params: float) -> tuple[dict[str, object], float]:
    started = time.monotonic()
    answer = httpx.get(f"{emulator.url}/__emulator/live/{SCRIPT}", params=params, timeout=30).json()
    return answer, time.monotonic() - started


def test_a_wait_is_answered_by_the_next_deployment_or_after_its_seconds(emulator: EmulatorHandle) -> None:
    upload(emulator.api_base_url, SCRIPT)
    now, _ = live(emulator)
    uploaded = upload(emulator.api_base_url, SCRIPT, deploy=False)  # a version alone changes nothing live
    assert now["change"] == 1 and now["version_id"] != uploaded

    same, waited = live(emulator, after=1, wait=0.5)  # nothing changes: the answer comes after the wait
    assert same == now and waited >= 0.45

    threading.Timer(0.3, lambda: deploy(emulator.api_base_url, SCRIPT, [(uploaded, 100.0)]).raise_for_status()).start()
    moved, waited = live(emulator, after=1, wait=20)
    assert moved["version_id"] == uploaded and moved["change"] == 2 and 0.25 <= waited < 10

    stale, waited = live(emulator, after=7, wait=20)  # a count from an emulator before a restart: answered at once
    assert stale == moved and waited < 5


def test_a_wait_that_does_not_parse_is_refused(emulator: EmulatorHandle) -> None:
    answer = httpx.get(f"{emulator.url}/__emulator/live/{SCRIPT}", params={"after": "x"}, timeout=10)
    assert answer.status_code == 400 and "change count" in answer.json()["error"]
