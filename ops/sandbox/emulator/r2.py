"""R2 buckets, paged, per jurisdiction."""

from __future__ import annotations

import re

from ops.sandbox.emulator.routing import TS, ApiFailure, Reply, Request, route
from ops.sandbox.emulator.state import State, now


def _jurisdiction(req: Request) -> str:
    jurisdiction = req.headers.get("cf-r2-jurisdiction", "default") or "default"
    if jurisdiction not in ("default", "eu", "fedramp"):
        raise ApiFailure(400, 10041, f"Invalid jurisdiction {jurisdiction!r}")  # the code is the emulator's own
    return jurisdiction


@route("GET", "/r2/buckets",
       f"{TS}r2/buckets/buckets.ts BucketListParams (cursor, per_page, cf-r2-jurisdiction)/BucketListResponse")
def list_r2(state: State, req: Request) -> Reply:
    jurisdiction = _jurisdiction(req)
    names = sorted((b for b in state.data["r2"] if b.get("jurisdiction", "default") == jurisdiction),
                   key=lambda b: str(b["name"]))
    per_page = max(1, min(1000, int(req.query.get("per_page", 20))))
    after = req.query.get("cursor") or req.query.get("start_after") or ""
    rest = [b for b in names if str(b["name"]) > after]
    window = rest[:per_page]
    cursor = str(window[-1]["name"]) if len(rest) > per_page else ""
    return 200, {"buckets": window}, {"cursor": cursor, "per_page": per_page}


@route("DELETE", "/r2/buckets/{bucket}",
       f"{TS}r2/buckets/buckets.ts BucketDeleteParams (cf-r2-jurisdiction)/BucketDeleteResponse; 10006 is R2's "
       "NoSuchBucket (developers.cloudflare.com/r2/api/error-codes/)")
def delete_r2(state: State, req: Request) -> Reply:
    jurisdiction = _jurisdiction(req)
    kept = [b for b in state.data["r2"] if not (b["name"] == req.params["bucket"]
                                                and b.get("jurisdiction", "default") == jurisdiction)]
    if len(kept) == len(state.data["r2"]):
        raise ApiFailure(404, 10006, "The specified bucket does not exist.")
    state.data["r2"] = kept
    state.save()
    return 200, {}, None


@route("GET", "/r2/buckets/{bucket}",
       f"{TS}r2/buckets/buckets.ts BucketGetParams (cf-r2-jurisdiction)/Bucket; wrangler deploy reads each bound "
       "bucket; 10006 is R2's NoSuchBucket (developers.cloudflare.com/r2/api/error-codes/)")
def get_r2(state: State, req: Request) -> Reply:
    jurisdiction = _jurisdiction(req)
    name = req.params["bucket"]
    bucket = next((b for b in state.data["r2"] if b["name"] == name and b.get("jurisdiction", "default") == jurisdiction),
                  None)
    if bucket is None:
        raise ApiFailure(404, 10006, "The specified bucket does not exist.")
    return 200, bucket, None


@route("POST", "/r2/buckets",
       f"{TS}r2/buckets/buckets.ts BucketCreateParams/Bucket")
def create_r2(state: State, req: Request) -> Reply:
    jurisdiction = _jurisdiction(req)
    name = str((req.json() or {}).get("name") or "")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", name):
        raise ApiFailure(400, 10005, "The bucket name is not valid.")
    if any(b["name"] == name and b.get("jurisdiction", "default") == jurisdiction for b in state.data["r2"]):
        raise ApiFailure(409, 10004, "The bucket you tried to create already exists, and you own it.")
    bucket = {"name": name, "creation_date": now(), "location": "WNAM", "storage_class": "Standard",
              "jurisdiction": jurisdiction}
    state.data["r2"].append(bucket)
    state.save()
    return 200, bucket, None
