"""`jwt_probe`: prove that a service accepts a token signed with a given secret.

Mints a short-lived HS256 JWT (RFC 7519) signed with ``secret`` and sends it as
``Authorization: Bearer``. Used after a rotation of a JWT signing secret: the
Worker must accept a token signed with the new value. HS256 is an HMAC over
two base64url segments, so the standard library signs it; a JWT library would
add a dependency for a dozen lines. Outputs: status, json.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import httpx
from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.documents.shape import ANY, INTEGER, record
from ops.errors import TransportError


class JwtProbeArgs(Args):
    url: str = Field(description="The URL to GET with the token, e.g. `{{ target.worker_url }}/v1/me`.")
    secret: str = Field(min_length=1, description="The HS256 signing secret: a secret param.", json_schema_extra={"secret": True})
    subject: str = Field("cfw-remedy-probe", description="The token's `sub` claim.")
    ttl: int = Field(60, ge=1, le=3600, description="Seconds until the token's `exp`.")


class JwtProbeAction(Action):
    name = "jwt_probe"
    Args = JwtProbeArgs
    summary = "GET a URL with a fresh HS256 JWT signed with the given secret."
    outputs = record(status=INTEGER, json=ANY)

    def describe(self, args: JwtProbeArgs) -> str:
        return f"GET {args.url} with an HS256 token for {args.subject!r} signed with the secret"

    def run(self, args: JwtProbeArgs, ctx: Context) -> Outputs:
        token = mint_hs256(args.secret, {"sub": args.subject, "exp": int(time.time()) + args.ttl})
        try:
            response = ctx.http().get(args.url, headers={"Authorization": f"Bearer {token}"}, timeout=min(10.0, ctx.remaining()))
        except httpx.HTTPError as exc:
            raise TransportError(f"GET {args.url}: {exc}") from exc
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        return {"status": response.status_code, "json": body}


def mint_hs256(secret: str, claims: dict[str, Any]) -> str:
    def segment(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = segment(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + segment(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{segment(signature)}"
