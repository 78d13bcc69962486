"""KV namespaces, their keys and values, and bulk writes."""

from __future__ import annotations

import json
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from ops.sandbox.emulator.routing import TS, ApiFailure, Raw, Reply, Request, kv_hook, paged, route
from ops.sandbox.emulator.state import State, hex_id


KV_BULK_BYTES = 100_000_000  # developers.cloudflare.com/kv/platform/limits/: 100 MB a bulk request


def _namespace(state: State, ns: str) -> dict[str, Any]:
    namespace: dict[str, Any] | None = state.data["kv"].get(ns)
    if namespace is None:
        raise ApiFailure(404, 10013, "namespace not found")
    return namespace


@route("GET", "/storage/kv/namespaces",
       f"{TS}kv/namespaces/namespaces.ts Namespace (page-numbered)")
def list_namespaces(state: State, req: Request) -> Reply:
    items = [{"id": k, "title": v["title"], "supports_url_encoding": True} for k, v in state.data["kv"].items()]
    return paged(items, req)


@route("POST", "/storage/kv/namespaces",
       f"{TS}kv/namespaces/namespaces.ts NamespaceCreateParams/Namespace")
def create_namespace(state: State, req: Request) -> Reply:
    title = (req.json() or {}).get("title")
    if not title:
        raise ApiFailure(400, 10019, "a namespace needs a title")
    if any(v["title"] == title for v in state.data["kv"].values()):
        raise ApiFailure(400, 10014, "A namespace with this account ID and title already exists.")
    ns = hex_id()
    state.data["kv"][ns] = {"title": title, "keys": {}}
    state.save()
    return 200, {"id": ns, "title": title, "supports_url_encoding": True}, None


@route("DELETE", "/storage/kv/namespaces/{ns}",
       f"{TS}kv/namespaces/namespaces.ts delete")
def delete_namespace(state: State, req: Request) -> Reply:
    _namespace(state, req.params["ns"])
    del state.data["kv"][req.params["ns"]]
    state.save()
    return 200, None, None


@route("PUT", "/storage/kv/namespaces/{ns}/bulk",
       f"{TS}kv/namespaces/namespaces.ts NamespaceBulkUpdateParams/NamespaceBulkUpdateResponse; limits developers.cloudflare.com/kv/platform/limits/")
def bulk_write(state: State, req: Request) -> Reply:
    namespace = _namespace(state, req.params["ns"])
    if len(req.body) > KV_BULK_BYTES:
        raise ApiFailure(413, 10040, f"the request is {len(req.body):,} bytes; a bulk write may be at most 100 MB")
    pairs = req.json()
    if not isinstance(pairs, list) or len(pairs) > 10_000:
        raise ApiFailure(400, 10001, "the body must be a list of at most 10,000 key-value pairs")
    for pair in pairs:
        if not isinstance(pair, dict) or "key" not in pair or "value" not in pair:
            raise ApiFailure(400, 10001, "each pair needs a key and a value")
        namespace["keys"][pair["key"]] = {"value": pair["value"], "metadata": pair.get("metadata"),
                                          "expiration": pair.get("expiration")}
    state.save()
    for hook in kv_hook:
        hook(req.params["ns"], [{k: p[k] for k in ("key", "value", "expiration_ttl", "base64") if k in p} for p in pairs])
    return 200, {"successful_key_count": len(pairs), "unsuccessful_keys": []}, None


@route("GET", "/storage/kv/namespaces/{ns}/keys",
       f"{TS}kv/namespaces/keys.ts KeyListParams/Key (cursor-paged)")
def list_keys(state: State, req: Request) -> Reply:
    namespace = _namespace(state, req.params["ns"])
    prefix = req.query.get("prefix", "")
    limit = max(10, min(1000, int(req.query.get("limit", 1000))))
    names = sorted(k for k in namespace["keys"] if k.startswith(prefix))
    start = int(req.query["cursor"]) if req.query.get("cursor", "").isdigit() else 0
    window = names[start:start + limit]
    cursor = str(start + limit) if start + limit < len(names) else ""
    items = [{"name": k, "expiration": namespace["keys"][k].get("expiration"), "metadata": namespace["keys"][k].get("metadata")}
             for k in window]
    return 200, items, {"count": len(window), "cursor": cursor}


@route("PUT", "/storage/kv/namespaces/{ns}/values/{key}",
       f"{TS}kv/namespaces/values.ts ValueUpdateParams (multipart value and metadata, or the raw body; "
       f"expiration and expiration_ttl in the query)")
def put_value(state: State, req: Request) -> Reply:
    namespace = _namespace(state, req.params["ns"])
    metadata: Any = None
    if "multipart/form-data" in req.headers.get("content-type", ""):
        message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + req.headers["content-type"].encode()
                                                      + b"\r\n\r\n" + req.body)
        parts = {part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                 for part in message.iter_parts()}
        raw = parts.get("value")
        value = raw.decode(errors="replace") if isinstance(raw, bytes) else ""
        meta = parts.get("metadata")
        metadata = json.loads(meta) if isinstance(meta, bytes) and meta else None
    else:
        value = req.body.decode(errors="replace")
    expiration = req.query.get("expiration")
    namespace["keys"][req.params["key"]] = {"value": value, "metadata": metadata,
                                            "expiration": int(expiration) if expiration else None}
    state.save()
    for hook in kv_hook:
        hook(req.params["ns"], [{"key": req.params["key"], "value": value,
                                 **({"expiration_ttl": int(req.query["expiration_ttl"])}
                                    if req.query.get("expiration_ttl") else {})}])
    return 200, {}, None


@route("DELETE", "/storage/kv/namespaces/{ns}/values/{key}",
       f"{TS}kv/namespaces/values.ts delete")
def delete_value(state: State, req: Request) -> Reply:
    namespace = _namespace(state, req.params["ns"])
    namespace["keys"].pop(req.params["key"], None)
    state.save()
    return 200, {}, None


@route("GET", "/storage/kv/namespaces/{ns}/values/{key}",
       f"{TS}kv/namespaces/values.ts get (`__binaryResponse`: the raw value, not the envelope)")
def get_value(state: State, req: Request) -> Reply:
    namespace = _namespace(state, req.params["ns"])
    if req.params["key"] not in namespace["keys"]:
        raise ApiFailure(404, 10009, "key not found")
    value = namespace["keys"][req.params["key"]]["value"]
    data = value.encode() if isinstance(value, str) else json.dumps(value).encode()
    return 200, Raw(data, "application/octet-stream"), None
