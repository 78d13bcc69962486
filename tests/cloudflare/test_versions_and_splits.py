"""The versions list as wrangler reads it, and split (gradual) deployments (issue 19, points 2, 3 and 10).

The emulator answers ``deployable=true`` unpaged, as cloudflare-typescript documents ("Ignores
pagination"), newest or oldest first (``PUT /__emulator/versions``): the API documents no order.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

import ops.cloudflare as cf
from ops.cloudflare import CloudflareClient
from ops.cloudflare.operations import OPERATIONS, live_versions, rollback_target, worker_state
from ops.sandbox.emulator import EmulatorHandle
from tests.cloudflare.uploads import client_of, deploy, emulator_in, upload

SCRIPT = "api-worker"
ORDERS = ["newest", "oldest"]


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorHandle]:
    yield from emulator_in(tmp_path)


@pytest.fixture
def client(emulator: EmulatorHandle) -> Iterator[CloudflareClient]:
    yield from client_of(emulator)


def ordered(emulator: EmulatorHandle, order: str) -> None:
    httpx.put(f"{emulator.url}/__emulator/versions", headers=emulator.admin_headers, json={"order": order}).raise_for_status()


def version_requests(emulator: EmulatorHandle) -> list[dict[str, Any]]:
    return [r for r in httpx.get(f"{emulator.url}/__emulator/requests", headers=emulator.admin_headers).json()
            if r["method"] == "GET" and r["path"].endswith(f"/workers/scripts/{SCRIPT}/versions")]


# --- point 2: the versions list ---------------------------------------------------------------------------

@pytest.mark.parametrize("order", ORDERS)
def test_sixty_versions_come_back_once_each_newest_first_in_one_request(
        emulator: EmulatorHandle, client: CloudflareClient, order: str) -> None:
    for _ in range(59):
        upload(emulator.api_base_url, SCRIPT, deploy=False)
    latest = upload(emulator.api_base_url, SCRIPT)  # the 60th, deployed
    ordered(emulator, order)
    httpx.delete(f"{emulator.url}/__emulator/requests", headers=emulator.admin_headers)

    versions = cf.list_versions(client, SCRIPT)
    assert len(versions) == len({v["id"] for v in versions}) == 60
    assert [v["number"] for v in versions] == list(range(60, 0, -1))
    assert len(version_requests(emulator)) == 1 and "deployable=true" in version_requests(emulator)[0]["query"]
    state = worker_state(client, SCRIPT)
    assert state["latest_version_id"] == latest and state["latest_is_deployed"] is True


@pytest.mark.parametrize("order", ORDERS)
def test_over_a_hundred_versions_keep_the_newest_hundred_and_the_rollback_target(
        emulator: EmulatorHandle, client: CloudflareClient, order: str) -> None:
    for _ in range(103):
        upload(emulator.api_base_url, SCRIPT, deploy=False)
    good = upload(emulator.api_base_url, SCRIPT)
    bad = upload(emulator.api_base_url, SCRIPT)
    ordered(emulator, order)

    state = worker_state(client, SCRIPT)
    assert len(state["recent_version_ids"]) == 100 and state["recent_version_ids"][0] == bad
    assert (state["current_version_id"], state["target_version_id"], state["target_in_window"]) == (bad, good, True)
    assert state["target_version_number"] == 104


# --- point 3: split deployments ---------------------------------------------------------------------------

def test_the_emulator_serves_a_split_as_deployment_create_params_give_it(emulator: EmulatorHandle,
                                                                         client: CloudflareClient) -> None:
    stable = upload(emulator.api_base_url, SCRIPT)
    canary = upload(emulator.api_base_url, SCRIPT, deploy=False)
    answer = deploy(emulator.api_base_url, SCRIPT, [(stable, 90), (canary, 10)], message="canary")
    assert answer.status_code == 200, answer.text
    created = answer.json()["result"]
    assert created["strategy"] == "percentage" and created["annotations"]["workers/message"] == "canary"
    assert created["versions"] == [{"version_id": stable, "percentage": 90.0}, {"version_id": canary, "percentage": 10.0}]
    assert cf.list_deployments(client, SCRIPT)[0]["versions"] == created["versions"]

    assert live_versions(client, SCRIPT) == [{"version_id": stable, "percentage": 90.0},
                                             {"version_id": canary, "percentage": 10.0}]
    state = worker_state(client, SCRIPT)
    assert state["current_version_ids"] == [stable, canary] and state["current_version_id"] == stable
    assert [(v["version_id"], v["number"]) for v in state["live_versions"]] == [(stable, 1), (canary, 2)]
    assert state["latest_is_deployed"] is False  # the latest serves 10%: secrets cannot be put (10215)
    assert OPERATIONS["deployments.live"].call(client, script=SCRIPT)[1]["percentage"] == 10.0


@pytest.mark.parametrize(("versions", "why"), [
    ([("A", 60), ("B", 30)], "add up to 100"),
    ([("A", 50), ("A", 50)], "distinct"),
    ([("A", 50), ("B", 25), ("C", 25)], "at most two"),
    ([("A", 0), ("B", 100)], "above 0"),
])
def test_a_split_the_api_would_refuse_is_refused_as_a_validation_error(
        emulator: EmulatorHandle, versions: list[tuple[str, float]], why: str) -> None:
    ids = {name: upload(emulator.api_base_url, SCRIPT, deploy=False) for name in "ABC"}
    answer = deploy(emulator.api_base_url, SCRIPT, [(ids[name], share) for name, share in versions])
    assert answer.status_code == 400 and answer.json()["errors"][0]["code"] == 10021
    assert why in answer.json()["errors"][0]["message"]


def test_the_rollback_target_is_wranglers_even_when_it_serves_in_the_live_split(
        emulator: EmulatorHandle, client: CloudflareClient) -> None:
    first = upload(emulator.api_base_url, SCRIPT)
    stable = upload(emulator.api_base_url, SCRIPT)
    canary = upload(emulator.api_base_url, SCRIPT, deploy=False)
    assert deploy(emulator.api_base_url, SCRIPT, [(stable, 90), (canary, 10)]).status_code == 200

    state = worker_state(client, SCRIPT)
    # wrangler: drop the newest deployment, take the first version at 100% in the rest, even one in the split
    assert state["rollback_target"] == stable != first
    assert state["target_is_live"] is True


def test_the_rollback_target_does_not_depend_on_the_order_deployments_are_listed_in() -> None:
    deployments = [
        {"id": "d1", "created_on": "2026-01-01T00:00:00Z", "versions": [{"version_id": "v1", "percentage": 100}]},
        {"id": "d3", "created_on": "2026-01-03T00:00:00Z",
         "versions": [{"version_id": "v2", "percentage": 90}, {"version_id": "v3", "percentage": 10}]},
        {"id": "d2", "created_on": "2026-01-02T00:00:00Z", "versions": [{"version_id": "v2", "percentage": 100}]},
    ]
    for _ in range(3):
        random.shuffle(deployments)
        assert rollback_target(deployments) == "v2"
    assert rollback_target(deployments[:0]) is None
    assert rollback_target([{"id": "d", "created_on": "x", "versions": [{"version_id": "v", "percentage": 100}]}]) is None


# --- point 10: the deployment message ------------------------------------------------------------------------

def test_a_deployment_message_is_kept_to_1000_bytes_as_the_api_documents(emulator: EmulatorHandle) -> None:
    version = upload(emulator.api_base_url, SCRIPT)
    answer = deploy(emulator.api_base_url, SCRIPT, [(version, 100)], message="é" * 700)  # 1,400 bytes
    kept = answer.json()["result"]["annotations"]["workers/message"]
    assert len(kept.encode()) == 1000 and kept == "é" * 500


def test_the_rollback_message_help_says_what_wrangler_and_the_api_do() -> None:
    spec = (Path(__file__).parents[2] / "remediations" / "rollback.yaml").read_text(encoding="utf-8")
    assert "120 characters at most" not in spec
    assert "1,000 bytes" in spec and "enforces no limit" in spec
    api = (Path(__file__).parents[2] / "ops" / "cloudflare" / "_api.py").read_text(encoding="utf-8")
    assert "still says 10" not in api
