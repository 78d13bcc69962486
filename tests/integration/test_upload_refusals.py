"""What the emulator refuses on upload, as Cloudflare does, and what an `inherit` binding keeps.

Fast and without wrangler: the uploads are the multipart bodies wrangler sends (tests/e2e/test_infra.py
runs the real `wrangler deploy` into the same refusals).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from ops.sandbox.emulator import EmulatorHandle, start_emulator

ACCOUNT, TOKEN, SCRIPT = "5a4db0c5000000000000000000000000", "upload-refusals-token", "infra-api"
KV = "b0b0cafe000000000000000000000003"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorHandle]:
    handle = start_emulator(tmp_path / "state.json", account_id=ACCOUNT, token=TOKEN,
                            seed={"kv": {KV: {"title": "infra-settings", "keys": {}}}})
    yield handle
    handle.stop()


def _upload(emulator: EmulatorHandle, bindings: list[dict[str, Any]], *, code: bytes = b"export default {}",
            strict: bool = True, deploy: bool = False) -> dict[str, Any]:
    """A version upload (``POST .../versions``), or with ``deploy`` a Worker upload (``PUT .../scripts/{name}``)."""
    script = f"{emulator.api_base_url}/accounts/{ACCOUNT}/workers/scripts/{SCRIPT}"
    response = httpx.request("PUT" if deploy else "POST", script if deploy else f"{script}/versions",
                             params={"bindings_inherit": "strict"} if strict else None,
                             headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60,
                             files={"metadata": (None, json.dumps({"main_module": "index.js", "bindings": bindings})),
                                    "index.js": ("index.js", code, "application/javascript+module")})
    doc: dict[str, Any] = response.json()
    return doc


def _errors(doc: dict[str, Any]) -> list[tuple[int, str]]:
    return [(e["code"], e["message"]) for e in doc["errors"]]


def test_a_kv_binding_to_a_namespace_the_account_lacks_is_refused(emulator: EmulatorHandle) -> None:
    assert _upload(emulator, [{"type": "kv_namespace", "name": "SETTINGS", "namespace_id": KV}], deploy=True)["success"]
    refused = _upload(emulator, [{"type": "kv_namespace", "name": "SETTINGS", "namespace_id": "0" * 32}])
    assert _errors(refused) == [(10042, f"KV namespace '{'0' * 32}' is not valid. Please verify the namespace_id "
                                        "in your configuration.")]


def test_inherit_keeps_the_latest_binding_and_refuses_what_is_not_there(emulator: EmulatorHandle) -> None:
    queue = {"type": "queue", "name": "JOBS", "queue_name": "jobs"}
    assert _upload(emulator, [queue, {"type": "secret_text", "name": "ORIGIN_TOKEN", "text": "t"}], deploy=True)["success"]
    inherited = [{"type": "inherit", "name": "JOBS"}, {"type": "inherit", "name": "ORIGIN_TOKEN"}]
    for _ in range(2):  # an inherited binding is kept, so the next upload can inherit it again
        version = _upload(emulator, inherited)
        assert version["success"], version
        assert {"type": "queue", "name": "JOBS", "queue_name": "jobs"} in version["result"]["resources"]["bindings"]
        assert {"type": "secret_text", "name": "ORIGIN_TOKEN"} in version["result"]["resources"]["bindings"]

    missing = [{"type": "inherit", "name": "A"}, {"type": "inherit", "name": "B"}]
    assert [code for code, _ in _errors(_upload(emulator, missing))] == [10057, 10057]
    assert [m.split(":")[0] for _, m in _errors(_upload(emulator, missing))] == [
        "inherit binding 'A' is invalid", "inherit binding 'B' is invalid"]  # what wrangler matches, one per binding
    assert _upload(emulator, missing, strict=False)["success"]  # without strict, dropped


def test_a_worker_over_64_mib_is_refused(emulator: EmulatorHandle) -> None:
    refused = _upload(emulator, [], code=b"//" + b"x" * (64 * 2**20))
    assert _errors(refused)[0][0] == 10027 and "exceeded the size limit of 64 MiB" in _errors(refused)[0][1]
