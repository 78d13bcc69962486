"""Static assets: the upload session, the upload, and the script upload that redeems the completion token.

As `wrangler deploy` of a Worker with ``assets`` drives them (workers-sdk packages/deploy-helpers/src/
deploy/helpers/assets.ts ``syncAssets``; developers.cloudflare.com/workers/static-assets/direct-upload/):

1. ``POST /workers/scripts/{script}/assets-upload-session`` with ``{manifest: {"/path": {hash, size}}}``
   answers an upload JWT and ``buckets``, the hashes the account does not hold yet (all of them held:
   no buckets, and the JWT is already the completion token);
2. ``POST /workers/assets/upload?base64=true``, authorised by ``Bearer <upload JWT>`` (not the API
   token), takes a multipart form of one part per hash, its content base64-encoded; the call that
   completes the manifest answers 201 with the completion JWT;
3. the script upload's metadata carries ``assets: {jwt: <completion JWT>, config: {...}}`` and an
   ``assets`` binding; the version keeps the manifest and the config, and the sandbox's `wrangler dev`
   serves those files (ops.sandbox.live).

A JWT is three base64url parts, as wrangler decodes it (deploy/helpers/jwt.ts reads ``exp``); the
emulator signs nothing, it knows its tokens by id.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from ops.sandbox.emulator.routing import TS, ApiFailure, Reply, Request, route, upload_hooks
from ops.sandbox.emulator.state import State, hex_id

DEPLOY_HELPERS = "workers-sdk@f8308360 packages/deploy-helpers/src/deploy/helpers/"
UPLOAD_PATH = "/workers/assets/upload"
BUCKET_SIZE = 50  # hashes per bucket (Cloudflare's own bucket sizes are not documented)
LIFETIME = 3600  # both tokens last an hour (direct-upload: "This completion token is valid for 1 hour")
INVALID_TOKEN = (401, 10000, "Authentication error")  # workers-sdk wrangler/src/core/handle-errors.ts
CONFIG_KEYS = ("html_handling", "not_found_handling", "run_worker_first", "_headers", "_redirects")


def _store(state: State) -> dict[str, Any]:
    store: dict[str, Any] = state.data.setdefault("assets", {"files": {}, "tokens": {}})
    return store


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.sandbox"


def _token(state: State, kind: str, script: str, manifest: dict[str, str]) -> str:
    token_id = hex_id()
    expires = int(time.time()) + LIFETIME
    _store(state)["tokens"][token_id] = {"kind": kind, "script": script, "manifest": manifest, "exp": expires}
    return _jwt({"jti": token_id, "sub": script, "exp": expires})


def _claims(state: State, jwt: str, kind: str) -> dict[str, Any] | None:
    """The live token that ``jwt`` names, if it is one of ``kind`` (``upload`` or ``completion``)."""
    try:
        claims = json.loads(base64.urlsafe_b64decode(jwt.split(".")[1] + "=="))
        token: dict[str, Any] | None = _store(state)["tokens"].get(str(claims["jti"]))
    except (IndexError, ValueError, KeyError, TypeError, binascii.Error):
        return None
    if token is None or token["kind"] != kind or token["exp"] <= time.time():
        return None
    return token


def bearer_admits(state: State, method: str, path: str, authorization: str) -> bool:
    """The upload call is authorised by its session's JWT, not by the API token (``path``: after the account)."""
    if method != "POST" or not path.startswith(UPLOAD_PATH):
        return False
    with state.lock:
        return _claims(state, authorization.removeprefix("Bearer "), "upload") is not None


@route("POST", "/workers/scripts/{script}/assets-upload-session",
       f"{TS}workers/scripts/assets/upload.ts UploadCreateParams / UploadCreateResponse (as {DEPLOY_HELPERS}assets.ts "
       "syncAssets sends and reads it)")
def upload_session(state: State, req: Request) -> Reply:
    manifest = _manifest(req.json())
    held = _store(state)["files"]
    missing = sorted({h for h in manifest.values() if h not in held})
    if not missing:
        return 200, {"jwt": _token(state, "completion", req.params["script"], manifest), "buckets": []}, None
    buckets = [missing[i:i + BUCKET_SIZE] for i in range(0, len(missing), BUCKET_SIZE)]
    jwt = _token(state, "upload", req.params["script"], manifest)
    state.save()
    return 200, {"jwt": jwt, "buckets": buckets}, None


def _manifest(body: Any) -> dict[str, str]:
    manifest = body.get("manifest") if isinstance(body, dict) else None
    if not isinstance(manifest, dict) or not all(
            isinstance(path, str) and path.startswith("/") and isinstance(entry, dict)
            and isinstance(entry.get("hash"), str) and isinstance(entry.get("size"), int)
            for path, entry in manifest.items()):
        raise ApiFailure(400, 10021, "The body must be {\"manifest\": {\"/path\": {\"hash\": \"...\", \"size\": N}}}.")
    return {path: str(entry["hash"]) for path, entry in manifest.items()}


@route("POST", UPLOAD_PATH,
       f"{TS}workers/assets/upload.ts UploadCreateParams / UploadCreateResponse (multipart, base64=true, as "
       f"{DEPLOY_HELPERS}assets.ts syncAssets sends it; 201 with the completion jwt: "
       "developers.cloudflare.com/workers/static-assets/direct-upload/)")
def upload_files(state: State, req: Request) -> Reply:
    token = _claims(state, req.headers.get("authorization", "").removeprefix("Bearer "), "upload")
    if token is None:
        raise ApiFailure(*INVALID_TOKEN)
    if req.query.get("base64") != "true":
        raise ApiFailure(400, 10021, "The base64 query parameter must be true, with each file base64-encoded.")
    files = _store(state)["files"]
    wanted = set(token["manifest"].values())
    for name, content_type, data in _parts(req):
        if name not in wanted:
            raise ApiFailure(400, 10021, f"{name} is not a hash of this upload session's manifest.")
        try:
            content = base64.b64decode(data, validate=True)
        except binascii.Error:
            raise ApiFailure(400, 10021, f"The file {name} is not base64-encoded.") from None
        files[name] = {"digest": state.store_module(content), "content_type": content_type}
    state.save()
    if wanted <= set(files):
        return 201, {"jwt": _token(state, "completion", token["script"], token["manifest"])}, None
    return 200, {}, None


def _parts(req: Request) -> list[tuple[str, str, bytes]]:
    ctype = req.headers.get("content-type", "")
    if "multipart/form-data" not in ctype:
        raise ApiFailure(400, 10021, "Expected a multipart/form-data upload, one part per file hash.")
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + req.body)
    found = []
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        found.append((str(part.get_param("name", header="content-disposition")), part.get_content_type(),
                      payload if isinstance(payload, bytes) else b""))
    return found


def version_assets(state: State, script: str, metadata: dict[str, Any], latest: dict[str, Any] | None) -> dict[str, Any]:
    """A script upload redeems its completion token (``metadata.assets.jwt``, as deploy-helpers'
    create-worker-upload-form.ts sends it), or keeps the latest version's assets with ``keep_assets``:
    the version's ``_assets`` (the manifest and the config)."""
    asked = metadata.get("assets")
    if isinstance(asked, dict) and asked.get("jwt"):
        token = _claims(state, str(asked["jwt"]), "completion")
        if token is None or token["script"] != script:
            raise ApiFailure(400, 10021, "The assets completion token is not valid (expired, or not this Worker's); "
                                         "upload the assets again.")
        given = asked.get("config")
        config: dict[str, Any] = given if isinstance(given, dict) else {}
        return {"_assets": {"manifest": dict(token["manifest"]),
                            "config": {k: config[k] for k in CONFIG_KEYS if config.get(k) is not None}}}
    if metadata.get("keep_assets") and latest is not None and latest.get("_assets"):
        return {"_assets": latest["_assets"]}
    return {}


def asset_files(state: State, assets: dict[str, Any]) -> dict[str, bytes]:
    """A version's files by path (without the leading ``/``), for the sandbox's `wrangler dev`."""
    files = _store(state)["files"]
    return {path.lstrip("/"): state.module_bytes(files[h]["digest"])
            for path, h in assets["manifest"].items() if h in files}


upload_hooks.append(version_assets)
