"""`r2`: is a bucket reachable? List one page of a prefix, with the bucket's jurisdiction.

GET ``/accounts/{account}/r2/buckets/{bucket}/objects?prefix=&per_page=``. This list
route is not in Cloudflare's public OpenAPI (nor in cloudflare-typescript); its
shape is the dashboard API's as workers-sdk documents it for miniflare's local
explorer (``packages/miniflare/scripts/openapi-filter-config.ts``: ``result`` is an
array of ``{key, etag, size, last_modified, http_metadata, custom_metadata}``,
``result_info`` holds ``cursor``, ``is_truncated`` and ``delimited``). A bucket in a
jurisdiction (EU, FedRAMP) is found only when the ``cf-r2-jurisdiction`` header
names it, as on every bucket route in cloudflare-typescript ``resources/r2/buckets``;
without it the API answers 10006 "The specified bucket does not exist."

Outputs: ``reachable`` (the API listed the prefix), ``count`` (objects on the first
page), ``truncated``, ``keys`` (the first few), and ``error``/``code`` when the API
refused. A refusal is an observation; an API that does not answer is not.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.documents.shape import BOOLEAN, INTEGER, STRING, array, nullable, record

SHOWN_KEYS = 10


class R2Args(Args):
    bucket: str = Field(min_length=3, max_length=63, description="The bucket's name.")
    prefix: str = Field("", description="List only keys starting with this.")
    jurisdiction: Literal["", "default", "eu", "fedramp"] = Field(
        "", description="The bucket's jurisdiction (sent as `cf-r2-jurisdiction`); empty for the default.")
    per_page: int = Field(100, ge=1, le=1000, description="Objects to ask for (one page: this is a probe).")


class R2Action(Action):
    name = "r2"
    Args = R2Args
    summary = "List one page of a prefix in an R2 bucket (with its jurisdiction): is it reachable?"
    outputs = record(reachable=BOOLEAN, count=INTEGER, truncated=BOOLEAN, keys=array(STRING), error=nullable(STRING),
                     code=nullable(INTEGER), bucket=STRING, prefix=STRING)

    def describe(self, args: R2Args) -> str:
        where = f" ({args.jurisdiction})" if args.jurisdiction else ""
        return f"list r2://{args.bucket}/{args.prefix}{where}"

    def run(self, args: R2Args, ctx: Context) -> Outputs:
        from ops.errors import ApiError

        headers = {"cf-r2-jurisdiction": args.jurisdiction} if args.jurisdiction else None
        params = {"per_page": args.per_page, **({"prefix": args.prefix} if args.prefix else {})}
        seen: Outputs = {"bucket": args.bucket, "prefix": args.prefix}
        try:
            envelope = ctx.cloudflare().request("GET", f"/r2/buckets/{args.bucket}/objects", params=params,
                                                headers=headers)
        except ApiError as exc:
            return {**seen, "reachable": False, "count": None, "truncated": None, "keys": [],
                    "error": f"{exc.message} [code: {exc.code}]", "code": exc.code}
        objects = envelope.get("result") or []
        info = envelope.get("result_info") or {}
        return {**seen, "reachable": True, "count": len(objects), "keys": [o.get("key") for o in objects[:SHOWN_KEYS]],
                "truncated": str(info.get("is_truncated", "")).lower() == "true" or bool(info.get("cursor")),
                "error": None, "code": None}
