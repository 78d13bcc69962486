"""A secret put after a rollback: a new version built from the deployed version, never from the latest (issue 21).

The history of every test: version 1 (good code, KV binding, ``API_KEY=good``) deployed, then version 2 (bad
code, ``API_KEY=bad``) deployed, then a rollback to version 1. The latest version is now not the deployed one,
so the secrets API refuses (10215).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ops.cloudflare import CloudflareClient, get_version, list_deployments
from ops.cloudflare.operations import put_secret, worker_state
from ops.cloudflare.secret_versions import version_from_deployed
from ops.errors import ApiError, InputError
from ops.sandbox.emulator import EmulatorHandle
from tests.cloudflare.uploads import ACCOUNT, TOKEN, deploy, upload

SCRIPT = "api-worker"
KV = "b0b0cafe000000000000000000000001"  # the default seed's namespace
GOOD = b"export default { fetch() { return new Response('good') } }\n"
BAD = b"export default { fetch() { throw new Error('bad') } }\n"


def bindings(secret: str) -> list[dict[str, Any]]:
    return [{"type": "kv_namespace", "name": "CACHE", "namespace_id": KV},
            {"type": "secret_text", "name": "API_KEY", "text": secret}]


@pytest.fixture
def rolled_back(emulator: EmulatorHandle) -> dict[str, str]:
    good = upload(emulator.api_base_url, SCRIPT, code=GOOD, bindings=bindings("good"))
    bad = upload(emulator.api_base_url, SCRIPT, code=BAD, bindings=bindings("bad"))
    answer = httpx.post(f"{emulator.api_base_url}/accounts/{ACCOUNT}/workers/scripts/{SCRIPT}/deployments",
                        params={"force": "true"}, headers={"Authorization": f"Bearer {TOKEN}"},
                        json={"strategy": "percentage", "versions": [{"version_id": good, "percentage": 100}]})
    assert answer.status_code == 200, answer.text
    return {"good": good, "bad": bad}


def stored(emulator: EmulatorHandle, version_id: str) -> dict[str, Any]:
    state = httpx.get(f"{emulator.url}/__emulator/state", headers=emulator.admin_headers).json()
    version: dict[str, Any] = next(v for v in state["scripts"][SCRIPT]["versions"] if v["id"] == version_id)
    return version


def code_of(emulator: EmulatorHandle, version_id: str) -> bytes:
    answer = httpx.get(f"{emulator.api_base_url}/accounts/{ACCOUNT}/workers/scripts/{SCRIPT}/content/v2",
                       params={"version": version_id}, headers={"Authorization": f"Bearer {TOKEN}"})
    return GOOD if GOOD in answer.content else BAD if BAD in answer.content else answer.content


def test_after_a_rollback_the_secret_goes_on_a_version_built_from_the_deployed_one(
        emulator: EmulatorHandle, client: CloudflareClient, rolled_back: dict[str, str]) -> None:
    with pytest.raises(ApiError) as refused:  # what the secrets API answers, and why this path exists
        client.result("PUT", f"/workers/scripts/{SCRIPT}/secrets", json={"name": "JWT_SECRET", "text": "t", "type": "secret_text"})
    assert refused.value.code == 10215

    result = put_secret(client, SCRIPT, "JWT_SECRET", "new-value")

    live = list_deployments(client, SCRIPT)[0]["versions"]
    assert live == [{"version_id": result["version_id"], "percentage": 100.0}]
    assert result["built_from"] == rolled_back["good"] and result["built_from_number"] == 1
    assert code_of(emulator, result["version_id"]) == GOOD  # the rolled-back code, not the bad one
    new = stored(emulator, result["version_id"])
    assert new["_secrets"] == {"API_KEY": "good", "JWT_SECRET": "new-value"}  # inherited from version 1, not 2
    assert {"type": "kv_namespace", "name": "CACHE", "namespace_id": KV} in new["resources"]["bindings"]
    assert new["annotations"]["workers/message"] == "secret JWT_SECRET put, built from deployed version 1"
    assert worker_state(client, SCRIPT)["latest_is_deployed"] is True  # the next secret goes through the secrets API


def test_the_deployed_versions_compatibility_settings_are_carried(
        emulator: EmulatorHandle, client: CloudflareClient) -> None:
    good = upload(emulator.api_base_url, SCRIPT, code=GOOD, compatibility_date="2025-01-01", flags=["nodejs_compat"])
    upload(emulator.api_base_url, SCRIPT, code=BAD, compatibility_date="2026-04-01")
    deploy(emulator.api_base_url, SCRIPT, [(good, 100)])

    made = get_version(client, SCRIPT, put_secret(client, SCRIPT, "JWT_SECRET", "v")["version_id"])
    runtime = made["resources"]["script_runtime"]
    assert (runtime["compatibility_date"], runtime["compatibility_flags"]) == ("2025-01-01", ["nodejs_compat"])


def test_with_the_latest_deployed_the_secrets_api_puts_it(emulator: EmulatorHandle, client: CloudflareClient) -> None:
    upload(emulator.api_base_url, SCRIPT, code=GOOD, bindings=bindings("good"))
    result = put_secret(client, SCRIPT, "JWT_SECRET", "v")
    assert result["how"].startswith("the secrets API") and "built_from" not in result
    paths = [r["path"] for r in httpx.get(f"{emulator.url}/__emulator/requests", headers=emulator.admin_headers).json()]
    assert not any(p.endswith("/content/v2") for p in paths)


def test_a_secret_removed_after_a_rollback_leaves_the_others(
        emulator: EmulatorHandle, client: CloudflareClient, rolled_back: dict[str, str]) -> None:
    made = version_from_deployed(client, SCRIPT, remove=("API_KEY",), message="secret API_KEY deleted")
    new = stored(emulator, made["version_id"])
    assert new["_secrets"] == {}  # the one secret left out; none comes along from the latest either
    assert {"type": "kv_namespace", "name": "CACHE", "namespace_id": KV} in new["resources"]["bindings"]
    assert code_of(emulator, made["version_id"]) == GOOD


def test_a_split_deployment_is_refused_with_what_to_do(emulator: EmulatorHandle, client: CloudflareClient) -> None:
    good = upload(emulator.api_base_url, SCRIPT, code=GOOD)
    bad = upload(emulator.api_base_url, SCRIPT, code=BAD, deploy=False)
    assert deploy(emulator.api_base_url, SCRIPT, [(good, 90), (bad, 10)]).status_code == 200
    with pytest.raises(InputError, match="split .* promote it or roll it back first"):
        version_from_deployed(client, SCRIPT, put={"JWT_SECRET": "v"})


def test_an_inherit_binding_naming_no_version_fails_the_upload(emulator: EmulatorHandle, client: CloudflareClient) -> None:
    upload(emulator.api_base_url, SCRIPT, code=GOOD, bindings=bindings("good"))
    files = {"metadata": (None, '{"main_module": "index.js", "bindings": [{"type": "inherit", "name": "CACHE", '
                                '"version_id": "00000000-0000-0000-0000-000000000000"}]}', "application/json"),
             "index.js": ("index.js", GOOD, "application/javascript+module")}
    answer = httpx.post(f"{emulator.api_base_url}/accounts/{ACCOUNT}/workers/scripts/{SCRIPT}/versions",
                        headers={"Authorization": f"Bearer {TOKEN}"}, files=files).json()
    assert not answer["success"] and answer["errors"][0]["code"] == 10057
    assert "version 00000000-0000-0000-0000-000000000000 does not exist" in answer["errors"][0]["message"]
