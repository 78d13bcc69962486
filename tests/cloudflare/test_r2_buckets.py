"""The emulator's R2 bucket routes as `wrangler r2 bucket create/delete` call them: a deleted bucket is gone from the
list and from a second delete (10006), and is created again under its name (the books runbook's manual step)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.cloudflare import CloudflareClient, RetryPolicy, list_r2
from ops.errors import ApiError
from ops.sandbox.emulator import start_emulator
from ops.sandbox.emulator.__main__ import load_seed

ACCOUNT, TOKEN = "5a4db0c5000000000000000000000000", "r2-test-token"


def test_a_bucket_is_deleted_once_and_created_again(tmp_path: Path) -> None:
    handle = start_emulator(tmp_path / "state.json", seed=load_seed("default"), token=TOKEN)
    client = CloudflareClient(ACCOUNT, TOKEN, base_url=handle.api_base_url, timeout=5, retry=RetryPolicy(attempts=1))
    try:
        assert [b["name"] for b in list_r2(client)] == ["api-cache-cold"]
        client.result("DELETE", "/r2/buckets/api-cache-cold")
        assert list_r2(client) == []
        with pytest.raises(ApiError) as gone:
            client.result("DELETE", "/r2/buckets/api-cache-cold")
        assert gone.value.code == 10006
        client.result("POST", "/r2/buckets", json={"name": "api-cache-cold"})
        assert [b["name"] for b in list_r2(client)] == ["api-cache-cold"]
    finally:
        client.close()
        handle.stop()
