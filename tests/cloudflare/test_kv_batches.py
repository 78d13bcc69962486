"""Every KV bulk write goes in batches of at most 1,000 pairs and under the 100 MB request limit (issue 19, point 4).

The limit is the API's (a bulk body "must be 100 megabytes or less": developers.cloudflare.com/api/resources/
kv/subresources/namespaces/methods/bulk_update/); here it is scaled down so that the test stays small.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from ops.actions import kv_fill
from ops.cloudflare import CloudflareClient, _api
from ops.errors import InputError
from ops.sandbox.emulator import EmulatorHandle

CACHE = "b0b0cafe000000000000000000000001"


def bulk_bodies(emulator: EmulatorHandle) -> list[dict[str, Any]]:
    return [r for r in httpx.get(f"{emulator.url}/__emulator/requests", headers=emulator.admin_headers).json()
            if r["method"] == "PUT" and r["path"].endswith("/bulk")]


def test_the_cache_warms_api_path_splits_by_bytes_not_only_by_count(
        emulator: EmulatorHandle, client: CloudflareClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_api, "KV_BULK_BYTES", 50_000)  # 100 MB, scaled down: 12 values of 10 KB need 3 requests
    values = tmp_path / "values.jsonl"
    values.write_text("".join(json.dumps({"key": f"k{i}", "value": "v" * 10_000}) + "\n" for i in range(12)))
    done: list[tuple[list[str], list[str]]] = []
    kv_fill.fill(client, CACHE, kv_fill.iter_pairs(str(values), "book:{key}"), concurrency=2,
                 on_batch=lambda keys, failed: done.append((keys, failed)))

    assert len(bulk_bodies(emulator)) == 3
    assert sorted(k for keys, _ in done for k in keys) == sorted(f"k{i}" for i in range(12))
    assert all(len(keys) == 4 and not failed for keys, failed in done)
    assert {k["name"] for k in _api.list_kv_keys(client, CACHE, "book:")} == {f"book:k{i}" for i in range(12)}


def test_batches_hold_at_most_1000_pairs_and_the_bytes_of_the_json_body(monkeypatch: pytest.MonkeyPatch) -> None:
    pairs = [{"key": f"k{i}", "value": "v"} for i in range(2500)]
    assert [len(b) for b in _api.kv_batches(pairs, lambda p: p)] == [1000, 1000, 500]
    monkeypatch.setattr(_api, "KV_BULK_BYTES", 1_000)  # 100 MB, scaled down: 4 values of 300 bytes (120 %)
    big = [{"key": f"k{i}", "value": "v" * 300} for i in range(4)]
    sized = list(_api.kv_batches(big, lambda p: p))
    assert [len(b) for b in sized] == [3, 1]
    assert all(len(json.dumps(b, separators=(",", ":"))) <= 1_000 for b in sized)


def test_one_pair_over_the_request_limit_is_an_input_error() -> None:
    with pytest.raises(InputError, match="more than the"):
        list(_api.kv_batches([{"key": "k", "value": "v" * 100_000_000}], lambda p: p))
