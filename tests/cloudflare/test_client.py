"""The client against the emulator's fault switches: paging, retries, Retry-After, no retried POST, error mapping."""

from __future__ import annotations

import types

import random
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

import ops.cloudflare as cf
from ops.cloudflare import CloudflareClient, RetryPolicy
from ops.errors import ApiError, TransportError
from ops.sandbox.emulator import start_emulator
from ops.sandbox.emulator.__main__ import load_seed

ACCOUNT, TOKEN = "5a4db0c5000000000000000000000000", "sandbox-local-token-canary-7f3e"


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Any]:
    handle = start_emulator(tmp_path / "state.json", seed=load_seed("default"), token=TOKEN)
    yield handle
    handle.stop()


def client_for(handle: Any, sleeps: list[float]) -> CloudflareClient:
    policy = RetryPolicy(attempts=4, sleep=sleeps.append, rng=random.Random(1))
    return CloudflareClient(ACCOUNT, TOKEN, base_url=handle.api_base_url, retry=policy, timeout=5)


def faults(handle: Any, **settings: Any) -> None:
    httpx.put(f"{handle.url}/__emulator/faults", headers=handle.admin_headers, json=settings).raise_for_status()


def requests(handle: Any) -> list[dict[str, Any]]:
    return list(httpx.get(f"{handle.url}/__emulator/requests", headers=handle.admin_headers).json())


def test_page_number_paging_reads_every_page(emulator: Any) -> None:
    c = client_for(emulator, [])
    for i in range(7):
        cf.create_kv_namespace(c, f"ns-{i}")
    titles = [n["title"] for n in c.pages("/storage/kv/namespaces", per_page=3)]
    assert len(titles) == 8 and "api-worker-CACHE" in titles
    assert [r["query"] for r in requests(emulator) if r["method"] == "GET"] == [
        "page=1&per_page=3", "page=2&per_page=3", "page=3&per_page=3"]


def test_cursor_paging_reads_every_key(emulator: Any) -> None:
    c = client_for(emulator, [])
    cf.kv_bulk_put(c, "b0b0cafe000000000000000000000001", ({"key": f"k{i:04d}", "value": "v"} for i in range(2500)))
    keys = list(cf.list_kv_keys(c, "b0b0cafe000000000000000000000001"))
    assert len(keys) == 2500
    bulk = [r for r in requests(emulator) if r["method"] == "PUT"]
    assert len(bulk) == 3  # 1,000 pairs a request, as wrangler does
    cursors = [r["query"] for r in requests(emulator) if r["path"].endswith("/keys")]
    assert cursors == ["limit=1000", "limit=1000&cursor=1000", "limit=1000&cursor=2000"]


def test_429_retry_after_is_honoured(emulator: Any) -> None:
    sleeps: list[float] = []
    c = client_for(emulator, sleeps)
    faults(emulator, rate_limit_rate=1.0, retry_after=3, seed=1)
    with pytest.raises(ApiError) as caught:
        cf.list_kv_namespaces(c)
    assert caught.value.code == 971 and caught.value.status == 429
    assert sleeps == [3.0, 3.0, 3.0]  # Retry-After, not the backoff, three times before the fourth and last try


def test_5xx_is_retried_with_jittered_backoff_then_succeeds(emulator: Any) -> None:
    sleeps: list[float] = []
    c = client_for(emulator, sleeps)
    faults(emulator, forced=[{"method": "GET", "path": "/queues$", "code": 10013, "status": 500, "message": "boom", "times": 2}])
    assert {"enrichment-jobs", "enrichment-dlq"} <= {q["queue_name"] for q in cf.list_queues(c)}
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 0.25 and 0 <= sleeps[1] <= 0.5


def test_dropped_connections_are_retried_for_safe_methods_only(emulator: Any) -> None:
    sleeps: list[float] = []
    c = client_for(emulator, sleeps)
    faults(emulator, drop_rate=1.0)
    with pytest.raises(TransportError) as caught:
        cf.list_queues(c)
    assert len([r for r in requests(emulator) if r["method"] == "GET"]) == 4
    with pytest.raises(TransportError) as caught:
        cf.create_deployment(c, "api-worker", "v")
    assert "not retried: not safe to repeat" in str(caught.value)
    assert len([r for r in requests(emulator) if r["method"] == "POST"]) == 1


def test_post_is_never_retried_on_5xx(emulator: Any) -> None:
    c = client_for(emulator, [])
    faults(emulator, forced=[{"method": "POST", "path": "/deployments", "code": 10013, "status": 500, "message": "boom"}])
    with pytest.raises(ApiError) as caught:
        cf.create_deployment(c, "api-worker", "x")
    assert (caught.value.code, caught.value.status) == (10013, 500)
    assert len([r for r in requests(emulator) if r["method"] == "POST"]) == 1


def test_api_errors_map_to_code_and_message(emulator: Any) -> None:
    c = client_for(emulator, [])
    with pytest.raises(ApiError) as caught:
        cf.list_versions(c, "no-such-worker")
    assert caught.value.code == 10007 and caught.value.message == "This Worker does not exist on your account."
    assert str(caught.value) == (f"A request to the Cloudflare API (/accounts/{ACCOUNT}/workers/scripts/no-such-worker/versions) "
                                 "failed. This Worker does not exist on your account. [code: 10007]")


def test_wrong_token_is_an_authentication_error_and_the_token_never_shows(emulator: Any) -> None:
    bad = CloudflareClient(ACCOUNT, "wrong-token-value", base_url=emulator.api_base_url, retry=RetryPolicy(attempts=1))
    with pytest.raises(ApiError) as caught:
        cf.list_queues(bad)
    assert caught.value.code == 10000
    good = client_for(emulator, [])
    assert TOKEN not in repr(good) and TOKEN not in str(caught.value)


def test_public_names_are_curated() -> None:
    public = {name for name in dir(cf) if not name.startswith("_") and not isinstance(getattr(cf, name), types.ModuleType)}
    assert sorted(cf.__all__) == cf.__all__
    assert set(cf.__all__) == public


def test_versions_are_read_page_by_page_up_to_the_rollback_window(emulator: Any) -> None:
    """A rollback may reach the 100 most recent versions (changelog 2025-09-11): the list pages past the first 50."""
    from ops.cloudflare import list_versions, put_secret
    from ops.cloudflare.operations import ROLLBACK_WINDOW
    from tests.cloudflare.test_reference_shapes import upload

    client = client_for(emulator, [])
    upload(client, "api-worker", "export default {fetch() { return new Response('v1') }}")
    for i in range(ROLLBACK_WINDOW + 5):  # each secret put is a version
        put_secret(client, "api-worker", "ROUND", str(i))
    versions = list_versions(client, "api-worker")
    assert len(versions) == ROLLBACK_WINDOW
    numbers = [v["number"] for v in versions]
    assert numbers == sorted(numbers, reverse=True) and len(set(numbers)) == ROLLBACK_WINDOW
