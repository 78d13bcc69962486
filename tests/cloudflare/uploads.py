"""Uploads as `wrangler deploy` and `wrangler versions upload` send them, for tests against the emulator."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, Iterator

import httpx

from ops.cloudflare import CloudflareClient, RetryPolicy
from ops.sandbox.emulator import EmulatorHandle, start_emulator
from ops.sandbox.emulator.__main__ import load_seed

ACCOUNT, TOKEN = "5a4db0c5000000000000000000000000", "sandbox-local-token"
CODE = b"export default { fetch() { return new Response('ok') } }\n"


def upload(api_base_url: str, script: str, *, deploy: bool = True, bindings: list[dict[str, Any]] | None = None,
           compatibility_date: str = "2026-04-01", flags: list[str] | None = None, token: str = TOKEN,
           code: bytes = CODE) -> str:
    """A new version of ``script`` (deployed at 100% when ``deploy``) running ``code``; returns its id."""
    metadata = {"main_module": "index.js", "compatibility_date": compatibility_date,
                "compatibility_flags": flags or [], "bindings": bindings or []}
    files: dict[str, tuple[str | None, bytes | str, str]] = {"metadata": (None, json.dumps(metadata), "application/json"),
             "index.js": ("index.js", code, "application/javascript+module")}
    base = f"{api_base_url}/accounts/{ACCOUNT}/workers/scripts/{script}"
    headers = {"Authorization": f"Bearer {token}"}
    if deploy:
        answer = httpx.put(base, headers=headers, files=files).json()
        assert answer["success"], answer
        return str(answer["result"]["deployment_id"])
    answer = httpx.post(f"{base}/versions", headers=headers, files=files).json()
    assert answer["success"], answer
    return str(answer["result"]["id"])


def deploy(api_base_url: str, script: str, versions: list[tuple[str, float]], message: str = "",
           token: str = TOKEN) -> httpx.Response:
    """POST a deployment as ``DeploymentCreateParams``: ``[(version_id, percentage)]``."""
    body: dict[str, Any] = {"strategy": "percentage",
                            "versions": [{"version_id": v, "percentage": p} for v, p in versions]}
    if message:
        body["annotations"] = {"workers/message": message}
    return httpx.post(f"{api_base_url}/accounts/{ACCOUNT}/workers/scripts/{script}/deployments",
                      headers={"Authorization": f"Bearer {token}"}, json=body)


def emulator_in(tmp_path: Path, *, seeded: bool = False, token: str = TOKEN) -> Iterator[EmulatorHandle]:
    """An emulator for one test (with the default scenario's KV namespace and queues when ``seeded``)."""
    handle = start_emulator(tmp_path / "state.json", seed=load_seed("default") if seeded else None,
                            account_id=ACCOUNT, token=token)
    yield handle
    handle.stop()


def client_of(handle: EmulatorHandle) -> Iterator[CloudflareClient]:
    c = CloudflareClient(ACCOUNT, TOKEN, base_url=handle.api_base_url, timeout=5,
                         retry=RetryPolicy(attempts=1, rng=random.Random(1)))
    yield c
    c.close()
