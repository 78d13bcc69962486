"""Typed operations over the client: versions, deployments, secrets, KV, D1, R2, queues, Durable Objects."""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from ops.batching import batched
from ops.cloudflare._client import CloudflareClient

KV_BULK_BATCH = 1000  # wrangler sends 1,000 pairs a request


def list_versions(c: CloudflareClient, script: str) -> list[dict[str, Any]]:
    result = c.result("GET", f"/workers/scripts/{script}/versions", params={"deployable": "true"})
    return list(result.get("items") or [])


def get_version(c: CloudflareClient, script: str, version_id: str) -> dict[str, Any]:
    version: dict[str, Any] = c.result("GET", f"/workers/scripts/{script}/versions/{version_id}")
    return version


def list_deployments(c: CloudflareClient, script: str) -> list[dict[str, Any]]:
    return list((c.result("GET", f"/workers/scripts/{script}/deployments") or {}).get("deployments") or [])


def create_deployment(c: CloudflareClient, script: str, version_id: str, *, message: str = "",
                      force: bool = False) -> dict[str, Any]:
    body = {"strategy": "percentage", "versions": [{"version_id": version_id, "percentage": 100}],
            "annotations": {"workers/message": message[:120]} if message else {}}
    deployment: dict[str, Any] = c.result("POST", f"/workers/scripts/{script}/deployments",
                                          params={"force": "true"} if force else None, json=body)
    return deployment


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


def kv_bulk_put(c: CloudflareClient, namespace_id: str, pairs: Iterable[dict[str, Any]]) -> int:
    """Write pairs 1,000 a request, in order; returns how many were written."""
    return sum(len(batch) - len(kv_bulk_write(c, namespace_id, batch)) for batch in batched(pairs, KV_BULK_BATCH))


def kv_bulk_write(c: CloudflareClient, namespace_id: str, batch: list[dict[str, Any]]) -> list[str]:
    """One bulk request (a PUT, so safe to retry); returns the keys Cloudflare reports as unsuccessful."""
    result = c.result("PUT", f"/storage/kv/namespaces/{namespace_id}/bulk", json=batch) or {}
    return [str(k) for k in result.get("unsuccessful_keys") or []]


def list_d1(c: CloudflareClient) -> list[dict[str, Any]]:
    return list(c.pages("/d1/database"))


def list_r2(c: CloudflareClient) -> list[dict[str, Any]]:
    return list((c.result("GET", "/r2/buckets") or {}).get("buckets") or [])


def list_queues(c: CloudflareClient) -> list[dict[str, Any]]:
    return list(c.pages("/queues"))


def get_queue(c: CloudflareClient, queue_id: str) -> dict[str, Any]:
    result: dict[str, Any] = c.result("GET", f"/queues/{queue_id}")
    return result


def list_consumers(c: CloudflareClient, queue_id: str) -> list[dict[str, Any]]:
    return list(c.result("GET", f"/queues/{queue_id}/consumers") or [])


def create_consumer(c: CloudflareClient, queue_id: str, script: str, *, dead_letter_queue: str | None = None,
                    settings: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "worker", "script_name": script, "settings": settings or {}}
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
    """Each message is ``{"body": ..., "content_type": "json" | "text"}``; at most 100 per call."""
    result: dict[str, Any] = c.result("POST", f"/queues/{queue_id}/messages/batch", json={"messages": messages})
    return result


def peek_messages(c: CloudflareClient, queue_id: str, *, batch_size: int = 100) -> list[dict[str, Any]]:
    """Messages at the head of a queue, without leasing them (a POST that only reads)."""
    return list((c.result("POST", f"/queues/{queue_id}/messages/peek", json={"batch_size": batch_size}) or {}).get("messages") or [])


def delete_consumer(c: CloudflareClient, queue_id: str, consumer_id: str) -> None:
    c.request("DELETE", f"/queues/{queue_id}/consumers/{consumer_id}")


def list_durable_objects(c: CloudflareClient) -> list[dict[str, Any]]:
    return list(c.pages("/workers/durable_objects/namespaces"))
