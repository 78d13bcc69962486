"""Typed operations over the client: versions, deployments, secrets, KV, D1, R2, queues, Durable Objects.

Request shapes follow cloudflare-typescript's resource types (src/resources/...,
commit faaaf89e) and wrangler's own client (workers-sdk, commit f8308360); each
function names its source. Request-size limits are Cloudflare's documented ones:
KV bulk writes take at most 10,000 pairs and 100 MB a request
(developers.cloudflare.com/kv/platform/limits/); a queue batch holds at most 100
messages and 256 KB, a message at most 128 KB (developers.cloudflare.com/queues/platform/limits/).
"""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

from ops.batching import sized_batches
from ops.cloudflare._client import CloudflareClient
from ops.errors import InputError

T = TypeVar("T")
KV_BULK_BATCH = 1000  # wrangler sends 1,000 pairs a request (10,000 is the API's limit)
KV_BULK_BYTES = 100_000_000 - 1_000_000  # the 100 MB request limit, less room for the JSON around the pairs
QUEUE_BATCH = 100
QUEUE_BATCH_BYTES = 256_000  # 256 KB a batch, counted in decimal to stay on the safe side
QUEUE_MESSAGE_BYTES = 128_000
R2_JURISDICTIONS = ("default", "eu")  # "fedramp" only exists for FedRAMP accounts; ask for it by name


def json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


# The versions a deployment may name: the 100 most recent since 2025-09-11 (developers.cloudflare.com/changelog/
# 2025-09-11-increased-version-rollback-limit/; the rollbacks page says 100 too, Limits, "Rollbacks limit").
ROLLBACK_WINDOW = 100


def list_versions(c: CloudflareClient, script: str, limit: int = ROLLBACK_WINDOW) -> list[dict[str, Any]]:
    """The newest ``limit`` deployable versions, newest first, as wrangler reads them: one request with
    ``deployable=true``, which "ignores pagination" (cloudflare-typescript src/resources/workers/scripts/versions.ts
    ``VersionListParams.deployable``; workers-sdk packages/deploy-helpers/src/deploy/helpers/versions-api.ts
    ``fetchDeployableVersions``). The answer's order is not documented (wrangler's versions/list.ts sorts it
    itself), so the versions are deduplicated by id and sorted by ``number``, which grows with each version."""
    answer = c.result("GET", f"/workers/scripts/{script}/versions", params={"deployable": "true"}) or {}
    unique = {str(v["id"]): v for v in answer.get("items") or [] if isinstance(v, dict) and v.get("id")}
    return sorted(unique.values(), key=lambda v: int(v.get("number") or 0), reverse=True)[:limit]


def get_version(c: CloudflareClient, script: str, version_id: str) -> dict[str, Any]:
    version: dict[str, Any] = c.result("GET", f"/workers/scripts/{script}/versions/{version_id}")
    return version


def list_deployments(c: CloudflareClient, script: str) -> list[dict[str, Any]]:
    return list((c.result("GET", f"/workers/scripts/{script}/deployments") or {}).get("deployments") or [])


def create_deployment(c: CloudflareClient, script: str, version_id: str, *, message: str = "",
                      force: bool = False) -> dict[str, Any]:
    body = {"strategy": "percentage", "versions": [{"version_id": version_id, "percentage": 100}],
            "annotations": {"workers/message": _truncated(message, 1000)} if message else {}}
    deployment: dict[str, Any] = c.result("POST", f"/workers/scripts/{script}/deployments",
                                          params={"force": "true"} if force else None, json=body)
    return deployment


def create_split_deployment(c: CloudflareClient, script: str, shares: Sequence[tuple[str, int]], *, message: str = "",
                            force: bool = False) -> dict[str, Any]:
    """One deployment of one or two versions by percentage (a gradual deployment; the shares sum to 100)."""
    body = {"strategy": "percentage", "versions": [{"version_id": v, "percentage": p} for v, p in shares],
            "annotations": {"workers/message": _truncated(message, 1000)} if message else {}}
    deployment: dict[str, Any] = c.result("POST", f"/workers/scripts/{script}/deployments",
                                          params={"force": "true"} if force else None, json=body)
    return deployment


def _truncated(text: str, limit: int) -> str:
    """At most ``limit`` UTF-8 bytes, cut on a character boundary (the API truncates a deployment message to 1,000)."""
    return text.encode()[:limit].decode(errors="ignore")


def put_secret(c: CloudflareClient, script: str, name: str, text: str) -> dict[str, Any]:
    result: dict[str, Any] = c.result("PUT", f"/workers/scripts/{script}/secrets",
                                      json={"name": name, "text": text, "type": "secret_text"})
    return result


def list_secrets(c: CloudflareClient, script: str) -> list[dict[str, Any]]:
    return list(c.result("GET", f"/workers/scripts/{script}/secrets") or [])


def delete_secret(c: CloudflareClient, script: str, name: str) -> None:
    c.request("DELETE", f"/workers/scripts/{script}/secrets/{name}")


def list_kv_namespaces(c: CloudflareClient) -> list[dict[str, Any]]:
    return list(c.pages("/storage/kv/namespaces"))


def create_kv_namespace(c: CloudflareClient, title: str) -> dict[str, Any]:
    result: dict[str, Any] = c.result("POST", "/storage/kv/namespaces", json={"title": title})
    return result


def delete_kv_namespace(c: CloudflareClient, namespace_id: str) -> None:
    c.request("DELETE", f"/storage/kv/namespaces/{namespace_id}")


def list_kv_keys(c: CloudflareClient, namespace_id: str, prefix: str = "") -> Iterator[dict[str, Any]]:
    return c.cursor(f"/storage/kv/namespaces/{namespace_id}/keys", params={"prefix": prefix} if prefix else None)


def kv_batches(items: Iterable[T], pair: Callable[[T], dict[str, Any]]) -> Iterator[list[T]]:
    """The batches every KV bulk write goes in: at most 1,000 pairs and ``KV_BULK_BYTES`` of JSON a request.
    ``pair`` picks the pair out of an item (kv_fill carries the key it was given beside each pair)."""
    return sized_batches(items, count=KV_BULK_BATCH, max_bytes=KV_BULK_BYTES, size=lambda item: json_size(pair(item)) + 1)


def kv_bulk_put(c: CloudflareClient, namespace_id: str, pairs: Iterable[dict[str, Any]]) -> int:
    """Write pairs in order, in ``kv_batches``; returns how many were written."""
    return sum(len(batch) - len(kv_bulk_write(c, namespace_id, batch)) for batch in kv_batches(pairs, lambda p: p))


def kv_bulk_write(c: CloudflareClient, namespace_id: str, batch: list[dict[str, Any]]) -> list[str]:
    """One bulk request (a PUT, so safe to retry); returns the keys Cloudflare reports as unsuccessful."""
    result = c.result("PUT", f"/storage/kv/namespaces/{namespace_id}/bulk", json=batch) or {}
    return [str(k) for k in result.get("unsuccessful_keys") or []]


def list_d1(c: CloudflareClient) -> list[dict[str, Any]]:
    return list(c.pages("/d1/database"))


def list_r2(c: CloudflareClient, jurisdictions: Iterable[str] = R2_JURISDICTIONS) -> list[dict[str, Any]]:
    """Every bucket of each jurisdiction, each tagged with its ``jurisdiction``.

    A list shows one jurisdiction's buckets: the ``cf-r2-jurisdiction`` header picks it
    (default without). It is cursor-paged: ``cursor`` and ``per_page`` (at most 1,000)
    in, ``result_info.cursor`` out (cloudflare-typescript src/resources/r2/buckets/buckets.ts,
    ``BucketListParams``; wrangler src/r2/helpers/bucket.ts ``listR2Buckets``).
    """
    found: list[dict[str, Any]] = []
    for jurisdiction in jurisdictions:
        headers = {} if jurisdiction == "default" else {"cf-r2-jurisdiction": jurisdiction}
        cursor = ""
        while True:
            query: dict[str, Any] = {"per_page": 1000, **({"cursor": cursor} if cursor else {})}
            envelope = c.request("GET", "/r2/buckets", params=query, headers=headers)
            buckets = (envelope.get("result") or {}).get("buckets") or []
            found.extend({**b, "jurisdiction": b.get("jurisdiction") or jurisdiction} for b in buckets)
            cursor = (envelope.get("result_info") or {}).get("cursor") or ""
            if not cursor or not buckets:
                break
    return found


def list_queues(c: CloudflareClient) -> list[dict[str, Any]]:
    return list(c.pages("/queues"))


def get_queue(c: CloudflareClient, queue_id: str) -> dict[str, Any]:
    result: dict[str, Any] = c.result("GET", f"/queues/{queue_id}")
    return result


def list_consumers(c: CloudflareClient, queue_id: str) -> list[dict[str, Any]]:
    return list(c.result("GET", f"/queues/{queue_id}/consumers") or [])


def create_consumer(c: CloudflareClient, queue_id: str, script: str, *, dead_letter_queue: str | None = None,
                    settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """``ConsumerCreateParams.MqWorkerConsumerRequest`` (cloudflare-typescript src/resources/queues/consumers.ts):
    ``type``, ``script_name``, ``settings`` (batch_size, max_retries, max_wait_time_ms, max_concurrency,
    retry_delay) and ``dead_letter_queue``."""
    body: dict[str, Any] = {"type": "worker", "script_name": script,
                            "settings": {k: v for k, v in (settings or {}).items() if v is not None}}
    if dead_letter_queue:
        body["dead_letter_queue"] = dead_letter_queue
    result: dict[str, Any] = c.result("POST", f"/queues/{queue_id}/consumers", json=body)
    return result


def create_pull_consumer(c: CloudflareClient, queue_id: str, *, visibility_timeout_ms: int = 30_000) -> dict[str, Any]:
    body = {"type": "http_pull", "settings": {"visibility_timeout_ms": visibility_timeout_ms}}
    result: dict[str, Any] = c.result("POST", f"/queues/{queue_id}/consumers", json=body)
    return result


def pull_messages(c: CloudflareClient, queue_id: str, *, batch_size: int = 100,
                  visibility_timeout_ms: int = 60_000) -> dict[str, Any]:
    result: dict[str, Any] = c.result("POST", f"/queues/{queue_id}/messages/pull",
                                      json={"batch_size": batch_size, "visibility_timeout_ms": visibility_timeout_ms})
    return result


def ack_messages(c: CloudflareClient, queue_id: str, lease_ids: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = c.result("POST", f"/queues/{queue_id}/messages/ack",
                                      json={"acks": [{"lease_id": lease} for lease in lease_ids], "retries": []})
    return result


def push_messages(c: CloudflareClient, queue_id: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Push ``{"body": ..., "content_type": "json" | "text"}`` messages, split into batches of at most 100
    messages and 256 KB (cloudflare-typescript src/resources/queues/messages.ts ``MessageBulkPushParams``).
    Returns the last batch's answer; a message over 128 KB is an InputError before anything is sent."""
    for message in messages:
        if message_size(message) > QUEUE_MESSAGE_BYTES:
            raise InputError(f"a queue message is {message_size(message):,} bytes; a message may be at most 128 KB")
    result: dict[str, Any] = {}
    for batch in sized_batches(messages, count=QUEUE_BATCH, max_bytes=QUEUE_BATCH_BYTES, size=message_size):
        result = c.result("POST", f"/queues/{queue_id}/messages/batch", json={"messages": batch}) or {}
    return result


def message_size(message: dict[str, Any]) -> int:
    """A message's size as Queues counts it: its body's bytes (a text body as UTF-8, a json body serialized)."""
    body = message.get("body")
    return len(body.encode()) if message.get("content_type") == "text" and isinstance(body, str) else json_size(body)


def peek_messages(c: CloudflareClient, queue_id: str, *, batch_size: int = 100) -> list[dict[str, Any]]:
    """Messages at the head of a queue, without leasing them (a POST that only reads)."""
    return list((c.result("POST", f"/queues/{queue_id}/messages/peek", json={"batch_size": batch_size}) or {}).get("messages") or [])


def delete_consumer(c: CloudflareClient, queue_id: str, consumer_id: str) -> None:
    c.request("DELETE", f"/queues/{queue_id}/consumers/{consumer_id}")


def list_durable_objects(c: CloudflareClient) -> list[dict[str, Any]]:
    return list(c.pages("/workers/durable_objects/namespaces"))
