"""The Cloudflare API subset, as handlers over ``State``: same paths, envelope, error codes and paging.

Every handler reads the request; none returns a canned answer. Paths are
relative to ``/client/v4/accounts/{account_id}``.

The emulator is a witness, not an echo of our client: each route names where its
request and response shapes come from (``SOURCES``): a type in cloudflare-typescript
(generated from Cloudflare's OpenAPI schema), wrangler's own source in workers-sdk
where wrangler reads what the OpenAPI types lack, or a docs page. Every error code it
answers is in ``codes.SOURCED_CODES`` or ``codes.INVENTIONS``, and what it does without a
source is in ``codes.INVENTED_BEHAVIOURS``. tests/cloudflare/test_reference_shapes.py
validates its answers, and our client's request bodies, against JSON Schemas
transcribed from those types.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, Callable

from ops.sandbox.emulator.codes import INVENTIONS as INVENTIONS  # tail.py adds its own
from ops.sandbox.emulator.state import State, hex_id, new_id, now

TS = "cloudflare-typescript@faaaf89e src/resources/"
WRANGLER = "workers-sdk@f8308360 packages/wrangler/src/"
DEPLOY_HELPERS = "workers-sdk@f8308360 packages/deploy-helpers/src/"
NOT_FOUND_SCRIPT = (404, 10007, "This Worker does not exist on your account.")
KV_BULK_BYTES = 100_000_000  # developers.cloudflare.com/kv/platform/limits/: 100 MB a bulk request
CARRIED = ("_migrations", "_assets")  # what a version made from another (a secret change) keeps of it
MAX_ROLLBACK_VERSIONS = 100  # since 2025-09-11 (Cloudflare changelog, "increased version rollback limit")
SCRIPT_SIZE_LIMIT = 64 * 2**20
# Documented elsewhere than in the API reference: 10079 as the API answers it (workers-sdk issues #705
# and #6953 quote it), 10211 as cloudflare-docs issue #32982 quotes it.
VERSION_UPLOAD_WITH_MIGRATION = (400, 10211, "Version upload failed. You attempted to upload a version of a Worker "
                                 "that includes a Durable Object migration, but migrations must be fully applied via "
                                 "a non-versioned deployment. Refer to the documentation for more information.")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    params: dict[str, str] = field(default_factory=dict)
    repeated: dict[str, list[str]] = field(default_factory=dict)  # every value of a repeated query parameter

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except json.JSONDecodeError as exc:
            raise ApiFailure(400, 10026, f"Request body is not valid JSON: {exc.msg}") from None


@dataclass(frozen=True)
class Raw:
    """An answer that is not the JSON envelope: a KV value, a version's modules."""

    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


class ApiFailure(Exception):
    def __init__(self, status: int, code: int, message: str, more: list[tuple[int, str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.errors = [(code, message), *(more or [])]  # the envelope's errors, the first being (code, message)


Reply = tuple[int, Any, dict[str, Any] | None]  # status, result, result_info
Handler = Callable[[State, Request], Reply]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []
LiveHook = Callable[[str], None]
live_hook: list[LiveHook] = []  # called with the script name when its live deployment changes
Deliver = Callable[[str, list[dict[str, Any]]], None]
deliver_hook: list[Deliver] = []  # called with (queue name, [{body, content_type}]) for Worker-consumed queues
kv_hook: list[Deliver] = []  # called with (namespace id, [{key, value, expiration_ttl}]) after a bulk write
# Called with (state, script, upload metadata, latest version) before a script upload makes its version; each
# answers private fields for the version (assets.py: the static assets its completion token names).
UploadHook = Callable[[State, str, dict[str, Any], "dict[str, Any] | None"], dict[str, Any]]
upload_hooks: list[UploadHook] = []


SOURCES: dict[tuple[str, str], str] = {}  # (method, pattern) -> where its shapes come from


def route(method: str, pattern: str, source: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")
        ROUTES.append((method, regex, handler))
        SOURCES[(method, pattern)] = source
        return handler
    return register


def dispatch(state: State, req: Request) -> Reply:
    for method, regex, handler in ROUTES:
        match = regex.match(req.path)
        if match and method == req.method:
            req.params = match.groupdict()
            with state.lock:
                return handler(state, req)
    raise ApiFailure(404, 7003, f"Could not route to {req.path}, perhaps your object identifier is invalid?")


# --- scripts, versions, deployments -------------------------------------------------------

def _script(state: State, name: str) -> dict[str, Any]:
    script: dict[str, Any] | None = state.data["scripts"].get(name)
    if script is None:
        raise ApiFailure(*NOT_FOUND_SCRIPT)
    return script


def _public_version(version: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in version.items() if not k.startswith("_")}


def live_version_id(script: dict[str, Any] | None) -> str | None:
    """The version serving the largest share of the latest deployment: the one the sandbox's first
    `wrangler dev` runs (a split's other version runs on a second one, ``split_version_id``)."""
    deployments = (script or {}).get("deployments") or []
    if not deployments:
        return None
    return str(max(deployments[0]["versions"], key=lambda v: float(v["percentage"]))["version_id"])


def live_split(script: dict[str, Any] | None) -> list[tuple[str, float]]:
    """The latest deployment's versions and their percentages: one, or two for a split."""
    deployments = (script or {}).get("deployments") or []
    if not deployments:
        return []
    return [(str(v["version_id"]), float(v["percentage"])) for v in deployments[0]["versions"]]


def split_version_id(script: dict[str, Any] | None) -> str | None:
    """The other version of a split deployment (the one the first `wrangler dev` does not run), else None."""
    live = live_version_id(script)
    return next((v for v, share in live_split(script) if v != live and share > 0), None)


def _current_version(script: dict[str, Any]) -> dict[str, Any]:
    live = live_version_id(script)
    return next(v for v in script["versions"] if v["id"] == live)


def _secret_digests(secrets: dict[str, str]) -> dict[str, str]:
    return {k: hashlib.sha256(v.encode()).hexdigest() for k, v in secrets.items()}


def _new_version(state: State, name: str, *, main_module: str, modules: list[dict[str, str]],
                 bindings: list[dict[str, Any]], secrets: dict[str, str], runtime: dict[str, Any],
                 triggered_by: str, message: str | None = None, tag: str | None = None,
                 source: str = "wrangler", carried_from: dict[str, Any] | None = None) -> dict[str, Any]:
    """``carried_from``: a version whose Durable Object migrations and static assets the new one keeps (a secret change)."""
    script = state.data["scripts"].setdefault(name, {"created_on": now(), "versions": [], "deployments": [],
                                                    "tag": hex_id(), "consumers": []})
    number = (script["versions"][0]["number"] + 1) if script["versions"] else 1
    annotations = {"workers/triggered_by": triggered_by}
    if message:
        annotations["workers/message"] = message
    if tag:
        annotations["workers/tag"] = tag
    version = {
        "id": new_id(), "number": number,
        "metadata": {"created_on": now(), "modified_on": now(), "source": source,
                     "author_id": "sandbox", "author_email": "oncall@sandbox.local", "hasPreview": False},
        "annotations": annotations,
        "resources": {"bindings": [b for b in bindings if b.get("type") != "secret_text"] +
                                  [{"type": "secret_text", "name": n} for n in sorted(secrets)],
                      "script": {"etag": hex_id(), "handlers": ["fetch", "queue"], "last_deployed_from": source},
                      "script_runtime": runtime},
        "startup_time_ms": 4,
        "_main_module": main_module, "_modules": modules, "_secrets": dict(secrets),
        **{k: v for k, v in (carried_from or {}).items() if k in CARRIED},
    }
    script["versions"].insert(0, version)
    script["modified_on"] = now()
    return version


def _deploy(state: State, name: str, version_id: str, *, triggered_by: str, message: str | None = None,
            source: str = "wrangler", split: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A new live deployment: ``version_id`` at 100%, or ``split`` (``[{version_id, percentage}]``)."""
    script = _script(state, name)
    annotations = {"workers/triggered_by": triggered_by}
    if message:
        annotations["workers/message"] = message
    versions = split or [{"version_id": version_id, "percentage": 100.0}]
    deployment = {"id": new_id(), "source": source, "strategy": "percentage", "author_email": "oncall@sandbox.local",
                  "created_on": now(), "annotations": annotations,
                  "versions": [{"version_id": str(v["version_id"]), "percentage": float(v["percentage"])} for v in versions]}
    script["deployments"].insert(0, deployment)
    state.save()
    for hook in live_hook:
        hook(name)
    return deployment


def _parse_upload(req: Request) -> tuple[dict[str, Any], list[tuple[str, str, bytes]]]:
    ctype = req.headers.get("content-type", "")
    if "multipart/form-data" not in ctype:
        raise ApiFailure(400, 10021, "Expected a multipart/form-data upload with a metadata part.")
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + req.body)
    metadata: dict[str, Any] | None = None
    files: list[tuple[str, str, bytes]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        if name == "metadata":
            metadata = json.loads(content)
        else:
            files.append((part.get_filename() or str(name), part.get_content_type(), content))
    if metadata is None:
        raise ApiFailure(400, 10021, "The upload has no metadata part.")
    return metadata, files


def _store_upload(state: State, req: Request, triggered_by: str) -> dict[str, Any]:
    name = req.params["script"]
    metadata, files = _parse_upload(req)
    main_module = metadata.get("main_module") or metadata.get("body_part") or (files[0][0] if files else "")
    if not any(f[0] == main_module for f in files):
        raise ApiFailure(400, 10021, f"No such module \"{main_module}\" in the upload.")
    _check_size(files)
    existing = state.data["scripts"].get(name)
    bindings = _resolve_bindings(state, existing, metadata.get("bindings", []), strict=req.query.get("bindings_inherit") == "strict")
    modules = [{"name": f, "content_type": ct, "digest": state.store_module(data)} for f, ct, data in files]
    migrations = metadata.get("migrations") or {}
    if migrations and triggered_by == "version_upload":
        raise ApiFailure(*VERSION_UPLOAD_WITH_MIGRATION)
    current_tag = (existing or {}).get("migration_tag")
    if migrations and (migrations.get("old_tag") or None) != (current_tag or None):
        raise ApiFailure(400, 10079, f"Migration tag precondition failed; current tag is {current_tag!r}")
    secrets = dict(_current_version(existing)["_secrets"]) if existing and existing["deployments"] else {}
    latest = existing["versions"][0] if existing and existing["versions"] else None
    if latest is not None and "secret_text" in (metadata.get("keep_bindings") or []):
        secrets = {**secrets, **latest["_secrets"]}
    for binding in metadata.get("bindings", []):
        if binding.get("type") == "secret_text":
            secrets[binding["name"]] = binding.get("text", "")
        elif binding.get("type") == "inherit" and latest is not None and binding.get("name") in latest["_secrets"]:
            secrets[binding["name"]] = latest["_secrets"][binding["name"]]
    runtime = {"compatibility_date": metadata.get("compatibility_date"),
               "compatibility_flags": metadata.get("compatibility_flags", []), "usage_model": "standard"}
    migration_tag = migrations.get("new_tag") or current_tag
    if migration_tag:  # VersionGetResponse.resources.script_runtime.migration_tag: omitted without Durable Objects
        runtime["migration_tag"] = migration_tag
    annotations = metadata.get("annotations") or {}
    extra = {k: v for hook in upload_hooks for k, v in hook(state, name, metadata, latest).items()}
    version = _new_version(state, name, main_module=main_module, modules=modules, bindings=bindings,
                           secrets=secrets, runtime=runtime, triggered_by=triggered_by,
                           message=annotations.get("workers/message"), tag=annotations.get("workers/tag"))
    version.update(extra)
    if migrations.get("new_tag"):
        state.data["scripts"][name]["migration_tag"] = migrations["new_tag"]
    version["_migrations"] = applied_migrations(latest, migrations)
    return version


def applied_migrations(latest: dict[str, Any] | None, migrations: dict[str, Any]) -> list[dict[str, Any]]:
    """Every Durable Object migration step applied up to this upload, each with the tag it was applied under.

    An upload carries only the steps since ``old_tag``: ``steps`` (cloudflare-typescript
    src/resources/workers/scripts/scripts.ts ``MultipleStepMigrations``, which wrangler 4 sends from
    deploy/deploy.ts getMigrationsToUpload) or one step's fields at the top level (``SingleStepMigration``).
    The sandbox's `wrangler dev` needs them all (which classes are SQLite-backed), so each version keeps the sum."""
    kept: list[dict[str, Any]] = list((latest or {}).get("_migrations") or [])
    if not migrations.get("new_tag"):
        return kept
    fields = ("new_classes", "new_sqlite_classes", "renamed_classes", "deleted_classes", "transferred_classes")
    steps = migrations.get("steps") or [{k: migrations[k] for k in fields if k in migrations}]
    tag = str(migrations["new_tag"])
    return kept + [{"tag": tag if i == len(steps) - 1 else f"{tag}~{i + 1}", **{k: s[k] for k in fields if s.get(k)}}
                   for i, s in enumerate(steps)]


def _check_size(files: list[tuple[str, str, bytes]]) -> None:
    """The Worker size limit: 64 MiB uncompressed on every plan since 2026-09-04 (cloudflare-docs #33241), counted
    over the modules without source maps as wrangler's Total Upload counts them. The message is the API's
    (workers-sdk issue #9101 quotes it for the 3 MiB limit of the time), with today's limit."""
    size = sum(len(data) for _, ctype, data in files if ctype != "application/source-map")
    if size > SCRIPT_SIZE_LIMIT:
        raise ApiFailure(400, 10027, f"Your Worker exceeded the size limit of {SCRIPT_SIZE_LIMIT // 2**20} MiB. Refer to the "
                                     "Workers documentation (https://developers.cloudflare.com/workers/observability/errors/"
                                     "#errors-on-worker-upload) for more details.")


def _resolve_bindings(state: State, existing: dict[str, Any] | None, bindings: list[dict[str, Any]], *,
                      strict: bool) -> list[dict[str, Any]]:
    """A KV binding must name a namespace of the account (10042, worded as workers-sdk issue #14249 quotes
    the API). An ``inherit`` binding (cloudflare-typescript src/resources/workers/scripts/versions.ts
    ``WorkersBindingKindInherit``; wrangler sends one per ``secrets.required`` name it was not given)
    resolves against the latest version: with ``bindings_inherit=strict`` one that does not resolve fails
    the upload with 10057, one error per binding, beginning with the words wrangler parses
    (workers-sdk packages/deploy-helpers/src/deploy/helpers/secrets-validation.ts
    ``handleMissingSecretsError``; the rest of each message is ours); without it, it is dropped."""
    for binding in bindings:
        if binding.get("type") == "kv_namespace" and binding.get("namespace_id") not in state.data["kv"]:
            raise ApiFailure(400, 10042, f"KV namespace '{binding.get('namespace_id')}' is not valid. "
                                         "Please verify the namespace_id in your configuration.")
    latest = existing["versions"][0] if existing and existing["versions"] else None
    secrets = set(latest["_secrets"]) if latest else set()
    kept = {b["name"]: b for b in latest["resources"]["bindings"] if b.get("type") != "secret_text"} if latest else {}
    resolved, unresolved = [], []
    for binding in bindings:
        if binding.get("type") != "inherit":
            resolved.append(binding)
            continue
        source = str(binding.get("old_name") or binding.get("name"))
        if source in kept:  # the latest version's binding, under the name asked for
            resolved.append({**kept[source], "name": binding.get("name")})
        elif source not in secrets:  # a secret is carried with the version's secrets
            unresolved.append(str(binding.get("name")))
    if unresolved and strict:
        errors = [(10057, f"inherit binding '{n}' is invalid: the latest version has no binding of that name")
                  for n in unresolved]
        raise ApiFailure(400, *errors[0], more=errors[1:])
    return resolved


def _script_summary(name: str, script: dict[str, Any]) -> dict[str, Any]:
    """A script as the scripts list and the service's default environment show it (``Script``)."""
    runtime = script["versions"][0]["resources"]["script_runtime"] if script["versions"] else {}
    summary = {"id": name, "tag": script["tag"], "tags": [], "created_on": script["created_on"],
               "modified_on": script.get("modified_on", script["created_on"]), "handlers": ["fetch", "queue"],
               "etag": script["versions"][0]["resources"]["script"]["etag"] if script["versions"] else "",
               "has_modules": True, "last_deployed_from": "wrangler", "usage_model": "standard",
               "compatibility_date": runtime.get("compatibility_date"),
               "compatibility_flags": runtime.get("compatibility_flags", [])}
    if script.get("migration_tag"):
        summary["migration_tag"] = script["migration_tag"]
    return summary


@route("GET", "/workers/scripts",
       f"{TS}workers/scripts/scripts.ts ScriptListResponse (wrangler 4.86 reads migration_tag from it before "
       f"a Durable Object migration: {WRANGLER}deploy/deploy.ts getMigrationsToUpload)")
def list_scripts(state: State, req: Request) -> Reply:
    return 200, [_script_summary(name, script) for name, script in sorted(state.data["scripts"].items())], None


@route("GET", "/workers/workers/{script}",
       f"{TS}workers/beta/workers/workers.ts Worker (wrangler 4.164's deploy reads its subdomain)")
def get_worker(state: State, req: Request) -> Reply:
    script = _script(state, req.params["script"])
    name = req.params["script"]
    consumers = [{"queue_consumer_id": c["consumer_id"], "queue_id": qid, "queue_name": q["queue_name"]}
                 for qid, q in state.data["queues"].items() for c in q["consumers"] if _consumer_script(c) == name]
    return 200, {"id": script["tag"], "name": name, "created_on": script["created_on"],
                 "updated_on": script.get("modified_on", script["created_on"]),
                 "deployed_on": script["deployments"][0]["created_on"] if script["deployments"] else None,
                 "logpush": False, "observability": {"enabled": False}, "tags": [], "tail_consumers": [],
                 "references": {"dispatch_namespace_outbounds": [], "domains": [], "durable_objects": [],
                                "queues": consumers, "workers": []},
                 "subdomain": {"enabled": True, "previews_enabled": False,
                               "url": f"https://{name}.{state.data['subdomain']}.workers.dev"}}, None


@route("PUT", "/workers/scripts/{script}",
       f"{TS}workers/scripts/scripts.ts ScriptUpdateParams/ScriptUpdateResponse; multipart as {WRANGLER}deployment-bundle/create-worker-upload-form.ts")
def upload_script(state: State, req: Request) -> Reply:
    version = _store_upload(state, req, "upload")
    _deploy(state, req.params["script"], version["id"], triggered_by="upload")
    script = state.data["scripts"][req.params["script"]]
    return 200, {"id": req.params["script"], "etag": version["resources"]["script"]["etag"],
                 "handlers": ["fetch", "queue"], "modified_on": script["modified_on"], "created_on": script["created_on"],
                 "usage_model": "standard", "compatibility_date": version["resources"]["script_runtime"]["compatibility_date"],
                 "deployment_id": version["id"], "startup_time_ms": version["startup_time_ms"],
                 "has_modules": True, "tag": script["tag"]}, None


@route("POST", "/workers/scripts/{script}/versions",
       f"{TS}workers/scripts/versions.ts VersionCreateParams/VersionCreateResponse; {WRANGLER}versions/upload.ts; "
       "error 10211 for a migration as cloudflare-docs issue #32982 quotes it")
def upload_version(state: State, req: Request) -> Reply:
    version = _store_upload(state, req, "version_upload")
    state.save()
    return 200, _public_version(version), None


@route("DELETE", "/workers/scripts/{script}",
       f"{TS}workers/scripts/scripts.ts delete")
def delete_script(state: State, req: Request) -> Reply:
    _script(state, req.params["script"])
    del state.data["scripts"][req.params["script"]]
    state.save()
    return 200, None, None


@route("GET", "/workers/services/{script}",
       f"{DEPLOY_HELPERS}triggers/queue-consumers.ts WorkerService (not in the OpenAPI types); "
       f"default_environment.script.migration_tag as {WRANGLER}deploy/deploy.ts getMigrationsToUpload (4.164)")
def get_service(state: State, req: Request) -> Reply:
    script = _script(state, req.params["script"])
    return 200, {"id": req.params["script"], "created_on": script["created_on"], "modified_on": script.get("modified_on"),
                 "default_environment": {"environment": "production", "created_on": script["created_on"],
                                         "modified_on": script.get("modified_on"),
                                         "script": _script_summary(req.params["script"], script)}}, None


@route("GET", "/workers/scripts/{script}/versions",
       f"{TS}workers/scripts/versions.ts VersionListParams (deployable: \"Only return versions that can be used in a "
       f"deployment. Ignores pagination.\")/VersionListResponse; items as {WRANGLER}versions/types.ts ApiVersion")
def list_versions(state: State, req: Request) -> Reply:
    """With ``deployable=true`` the whole list at once, paging ignored, as documented: the 100 most recent
    (the versions a deployment may name), newest or oldest first as ``versions_listing`` is set (the
    API's order is not documented). Without it, page by page, newest first."""
    script = _script(state, req.params["script"])
    items = [_public_version(v) for v in script["versions"]]
    if req.query.get("deployable") == "true":
        recent = items[:MAX_ROLLBACK_VERSIONS]
        return 200, {"items": recent[::-1] if _listing(state)["order"] == "oldest" else recent}, None
    page, per_page = int(req.query.get("page", 1)), int(req.query.get("per_page", 10))
    window = items[(page - 1) * per_page: page * per_page]
    return 200, {"items": window}, {"page": page, "per_page": per_page, "count": len(window), "total_count": len(items)}


def _listing(state: State) -> dict[str, Any]:
    listing: dict[str, Any] = {"order": "newest", **(state.data.get("versions_listing") or {})}
    return listing


def versions_listing(state: State, change: dict[str, Any]) -> tuple[int, Any]:
    """The admin setting ``/__emulator/versions``: ``{"order": "newest" | "oldest"}`` for the deployable list."""
    order = change.get("order")
    if order is not None and order not in ("newest", "oldest"):
        return 400, {"error": "order is newest or oldest"}
    with state.lock:
        if order is not None:
            state.data["versions_listing"] = {"order": order}
            state.save()
        return 200, _listing(state)


@route("GET", "/workers/scripts/{script}/versions/{version}",
       f"{TS}workers/scripts/versions.ts VersionGetResponse; {WRANGLER}versions/types.ts ApiVersion")
def get_version(state: State, req: Request) -> Reply:
    script = _script(state, req.params["script"])
    for version in script["versions"]:
        if version["id"] == req.params["version"]:
            return 200, _public_version(version), None
    raise ApiFailure(404, 10007, "The requested Worker Version does not exist.")


@route("GET", "/workers/scripts/{script}/deployments",
       f"{TS}workers/scripts/deployments.ts DeploymentListResponse")
def list_deployments(state: State, req: Request) -> Reply:
    script = _script(state, req.params["script"])
    return 200, {"deployments": script["deployments"][:10]}, None


@route("POST", "/workers/scripts/{script}/deployments",
       f"{TS}workers/scripts/deployments.ts DeploymentCreateParams (strategy \"percentage\", versions [{{version_id, "
       f"percentage}}], annotations workers/message \"Truncated to 1000 bytes\", force)/Deployment; a split of at most two "
       f"versions as {WRANGLER}versions/deploy.ts (max-versions, default 2); errors 10220, 10215 as "
       f"{WRANGLER}versions/rollback/index.ts; no rollback across a Durable Object migration, nor to a version binding a "
       "KV namespace, R2 bucket or queue that no longer exists, as developers.cloudflare.com/workers/configuration/"
       "versions-and-deployments/rollbacks/ (Limits, Bindings)")
def create_deployment(state: State, req: Request) -> Reply:
    name = req.params["script"]
    script = _script(state, name)
    body = req.json() or {}
    targets = _deployment_versions(body)
    recent = script["versions"][:MAX_ROLLBACK_VERSIONS]
    chosen = []
    for target in targets:
        version = next((v for v in script["versions"] if v["id"] == target["version_id"]), None)
        if version is None:
            raise ApiFailure(404, 10007, "The requested Worker Version does not exist.")
        if version not in recent:
            raise ApiFailure(400, 10224, f"Version {version['id']} is not among the {MAX_ROLLBACK_VERSIONS} most recent "
                                         "versions and cannot be deployed.")
        _refuse_across_migration(script, version)
        _refuse_missing_resources(state, version)
        chosen.append(version)
    live = {v["version_id"] for v in script["deployments"][0]["versions"]} if script["deployments"] else set()
    current = _current_version(script)
    for version in chosen:
        changed = sorted(k for k in set(current["_secrets"]) | set(version["_secrets"])
                         if current["_secrets"].get(k) != version["_secrets"].get(k))
        if changed and version["id"] not in live and req.query.get("force") != "true":
            raise ApiFailure(400, 10220, "A rollback to this version would change secrets. "
                                         f"The following secrets have changed: {', '.join(changed)}")
    message = (body.get("annotations") or {}).get("workers/message")
    if isinstance(message, str):
        message = message.encode()[:1000].decode(errors="ignore")  # "Truncated to 1000 bytes if longer"
    newest = script["versions"][0]["number"]
    triggered = "rollback" if len(chosen) == 1 and chosen[0]["number"] < newest else "deployment"
    deployment = _deploy(state, name, chosen[0]["id"], triggered_by=triggered, message=message,
                         split=targets if len(targets) > 1 else None)
    return 200, deployment, None


def _deployment_versions(body: Any) -> list[dict[str, Any]]:
    """``DeploymentCreateParams``' strategy and versions, checked: one or two distinct versions, shares adding up to 100."""
    targets = body.get("versions") if isinstance(body, dict) else None
    if not isinstance(body, dict) or body.get("strategy") != "percentage" or not isinstance(targets, list) or not targets:
        raise ApiFailure(400, 10021, "A deployment needs strategy \"percentage\" and a list of versions.")
    shaped = [t for t in targets if isinstance(t, dict) and isinstance(t.get("version_id"), str)
              and isinstance(t.get("percentage"), (int, float)) and not isinstance(t.get("percentage"), bool)
              and 0 < float(t["percentage"]) <= 100]
    if len(shaped) != len(targets) or len({t["version_id"] for t in targets}) != len(targets):
        raise ApiFailure(400, 10021, "Each version needs a distinct version_id and a percentage above 0 and at most 100.")
    if len(targets) > 2:
        raise ApiFailure(400, 10021, "A deployment may split traffic between at most two versions.")
    if abs(sum(float(t["percentage"]) for t in targets) - 100) > 1e-9:
        raise ApiFailure(400, 10021, "The versions' percentages must add up to 100.")
    return [{"version_id": t["version_id"], "percentage": float(t["percentage"])} for t in targets]


def _refuse_missing_resources(state: State, version: dict[str, Any]) -> None:
    """Cloudflare refuses a rollback to a version that binds "an R2 bucket, KV namespace, or queue that no
    longer exists" (the rollbacks page, Limits, Bindings). The code and message are the emulator's own."""
    queues = {q["queue_name"] for q in state.data["queues"].values()}
    buckets = {(b["name"], b.get("jurisdiction", "default")) for b in state.data["r2"]}
    gone = []
    for binding in version["resources"]["bindings"]:
        kind = binding.get("type")
        if kind == "kv_namespace" and binding.get("namespace_id") not in state.data["kv"]:
            gone.append(f"KV namespace {binding.get('namespace_id')} (binding {binding.get('name')})")
        elif kind == "r2_bucket" and (binding.get("bucket_name"), binding.get("jurisdiction") or "default") not in buckets:
            gone.append(f"R2 bucket {binding.get('bucket_name')} (binding {binding.get('name')})")
        elif kind == "queue" and binding.get("queue_name") not in queues:
            gone.append(f"queue {binding.get('queue_name')} (binding {binding.get('name')})")
    if gone:
        raise ApiFailure(400, 10227, f"Cannot deploy version {version['id']}: it binds resources that no longer exist: "
                                     f"{', '.join(gone)}.")


def _refuse_across_migration(script: dict[str, Any], version: dict[str, Any]) -> None:
    """Cloudflare refuses a rollback when "a Durable Object migration has occurred between the version in
    the active deployment and the version selected to roll back to" (developers.cloudflare.com/workers/
    configuration/versions-and-deployments/rollbacks/, Limits). Each version carries the migration tag
    that was the Worker's when it was created (cloudflare-typescript src/resources/workers/scripts/
    versions.ts ``VersionGetResponse.resources.script_runtime.migration_tag``); one that differs from
    the Worker's own predates (or skips) a migration. The code and message are the emulator's own."""
    live = script.get("migration_tag")
    tag = version["resources"]["script_runtime"].get("migration_tag")
    if (tag or None) != (live or None):
        raise ApiFailure(400, 10226,
                         f"Cannot deploy version {version['id']}: a Durable Object migration has occurred since it "
                         f"(its migration tag is {tag!r}, the Worker's is {live!r}). Deploy forward with wrangler deploy.")


@route("GET", "/workers/scripts/{script}/subdomain",
       f"{TS}workers/scripts/subdomain.ts SubdomainGetResponse")
def script_subdomain(state: State, req: Request) -> Reply:
    _script(state, req.params["script"])
    return 200, {"enabled": True, "previews_enabled": False}, None


@route("POST", "/workers/scripts/{script}/subdomain",
       f"{TS}workers/scripts/subdomain.ts SubdomainCreateParams")
def set_script_subdomain(state: State, req: Request) -> Reply:
    _script(state, req.params["script"])
    body = req.json() or {}
    return 200, {"enabled": bool(body.get("enabled", True)), "previews_enabled": bool(body.get("previews_enabled", False))}, None


@route("GET", "/workers/subdomain",
       f"{TS}workers/subdomains.ts SubdomainGetResponse")
def account_subdomain(state: State, req: Request) -> Reply:
    return 200, {"subdomain": state.data["subdomain"]}, None


@route("PUT", "/workers/scripts/{script}/schedules",
       f"{TS}workers/scripts/schedules.ts ScheduleUpdateParams")
def put_schedules(state: State, req: Request) -> Reply:
    _script(state, req.params["script"])
    return 200, {"schedules": req.json() or []}, None


@route("GET", "/workers/scripts/{script}/schedules",
       f"{TS}workers/scripts/schedules.ts ScheduleGetResponse")
def get_schedules(state: State, req: Request) -> Reply:
    _script(state, req.params["script"])
    return 200, {"schedules": []}, None


@route("PATCH", "/workers/scripts/{script}/script-settings",
       f"{TS}workers/scripts/settings.ts SettingEditParams")
def patch_settings(state: State, req: Request) -> Reply:
    _script(state, req.params["script"])
    return 200, req.json() or {}, None


@route("GET", "/workers/scripts/{script}/settings",
       f"{TS}workers/scripts/script-and-version-settings.ts ScriptAndVersionSettingGetResponse")
def get_settings(state: State, req: Request) -> Reply:
    version = _current_version(_script(state, req.params["script"]))
    return 200, {"bindings": version["resources"]["bindings"], **version["resources"]["script_runtime"]}, None


@route("GET", "/workers/scripts/{script}/content/v2",
       f"{TS}workers/scripts/content.ts get (`__binaryResponse`); wrangler 4.86 reads it as multipart/form-data "
       f"with the main module named in `cf-entrypoint` (wrangler-dist/cli.js parseModules, `versions secret put`)")
def get_content(state: State, req: Request) -> Reply:
    script = _script(state, req.params["script"])
    wanted = req.query.get("version")
    version = next((v for v in script["versions"] if v["id"] == wanted), None) if wanted else _current_version(script)
    if version is None:
        raise ApiFailure(404, 10007, "The requested Worker Version does not exist.")
    boundary = hex_id()
    parts = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{m["name"]}"; filename="{m["name"]}"\r\n'
        f'Content-Type: {m["content_type"]}\r\n\r\n'.encode() + state.module_bytes(m["digest"]) + b"\r\n"
        for m in version["_modules"])
    return 200, Raw(parts + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}",
                    {"cf-entrypoint": version["_main_module"]}), None


@route("GET", "/workers/scripts/{script}/script-settings",
       f"{TS}workers/scripts/settings.ts get (ScriptSetting in scripts.ts; wrangler 4.86's `versions secret put` reads "
       f"logpush, tail_consumers and observability from it)")
def get_script_settings(state: State, req: Request) -> Reply:
    _script(state, req.params["script"])
    return 200, {"logpush": False, "tail_consumers": [], "tags": [], "observability": {"enabled": False}}, None


@route("PATCH", "/workers/workers/{script}/versions/latest",
       f"{WRANGLER}versions/secrets/index.ts patchLatestWorkerVersionWithSecrets (a merge-patch of env and "
       f"annotations; the result as {TS}workers/beta/workers/versions.ts Version)")
def patch_latest_version(state: State, req: Request) -> Reply:
    """A new version from the latest one with secrets put (or removed, as null); it is not deployed."""
    script = _script(state, req.params["script"])
    latest = script["versions"][0]
    body = req.json() or {}
    secrets = dict(latest["_secrets"])
    for name, value in (body.get("env") or {}).items():
        if value is None:
            secrets.pop(name, None)
        elif isinstance(value, dict) and value.get("type") == "secret_text":
            secrets[name] = str(value.get("text", ""))
        else:
            raise ApiFailure(400, 10021, f"env.{name} must be {{type: secret_text, text}} or null")
    annotations = body.get("annotations") or {}
    version = _new_version(state, req.params["script"], main_module=latest["_main_module"], modules=latest["_modules"],
                           bindings=[b for b in latest["resources"]["bindings"] if b.get("type") != "secret_text"],
                           secrets=secrets, runtime=latest["resources"]["script_runtime"],
                           triggered_by="secret", message=annotations.get("workers/message"),
                           tag=annotations.get("workers/tag"), carried_from=latest)
    state.save()
    return 200, _public_version(version), None


# --- secrets: each change is a new version, deployed at once --------------------------------

def _secret_change(state: State, name: str, secrets: dict[str, str], what: str, *,
                   from_deployed: bool = False) -> dict[str, Any]:
    """``from_deployed``: as the dashboard changes a secret, from the deployed version whatever the latest is (the
    sandbox's own breaks); the API refuses while the latest version is not deployed (10215)."""
    script = _script(state, name)
    current = _current_version(script)
    if script["versions"][0]["id"] != current["id"] and not from_deployed:
        raise ApiFailure(400, 10215, "Secret edit failed. You attempted to modify a secret, but the latest version "
                                     "of your Worker isn't currently deployed. Please ensure that the latest version "
                                     "of your Worker is fully deployed (wrangler versions deploy) before modifying "
                                     "secrets. Alternatively, you can use the Cloudflare dashboard to modify secrets "
                                     "and deploy the version.")
    version = _new_version(state, name, main_module=current["_main_module"], modules=current["_modules"],
                           bindings=[b for b in current["resources"]["bindings"] if b.get("type") != "secret_text"],
                           secrets=secrets, runtime=current["resources"]["script_runtime"], triggered_by="secret",
                           message=what, carried_from=current)
    _deploy(state, name, version["id"], triggered_by="secret")
    return version


@route("PUT", "/workers/scripts/{script}/secrets",
       f"{TS}workers/scripts/secrets.ts SecretUpdateParams (secret_text); error 10215 as {WRANGLER}secret/index.ts")
def put_secret(state: State, req: Request) -> Reply:
    body = req.json() or {}
    if not isinstance(body, dict) or not body.get("name") or body.get("type", "secret_text") != "secret_text":
        raise ApiFailure(400, 10021, "A secret needs a name, a text and type \"secret_text\".")
    current = _current_version(_script(state, req.params["script"]))
    secrets = {**current["_secrets"], body["name"]: str(body.get("text", ""))}
    _secret_change(state, req.params["script"], secrets, f"secret {body['name']} put")
    return 200, {"name": body["name"], "type": "secret_text"}, None


@route("GET", "/workers/scripts/{script}/secrets",
       f"{TS}workers/scripts/secrets.ts SecretListResponse")
def list_secrets(state: State, req: Request) -> Reply:
    current = _current_version(_script(state, req.params["script"]))
    return 200, [{"name": n, "type": "secret_text"} for n in sorted(current["_secrets"])], None


@route("DELETE", "/workers/scripts/{script}/secrets/{name}",
       f"{TS}workers/scripts/secrets.ts delete")
def delete_secret(state: State, req: Request) -> Reply:
    current = _current_version(_script(state, req.params["script"]))
    if req.params["name"] not in current["_secrets"]:
        raise ApiFailure(404, 10056, f"Secret {req.params['name']} was not found on this Worker.")
    secrets = {k: v for k, v in current["_secrets"].items() if k != req.params["name"]}
    _secret_change(state, req.params["script"], secrets, f"secret {req.params['name']} deleted")
    return 200, None, None


def delete_secret_from_deployed(state: State, script: str, name: str) -> tuple[int, Any]:
    """The admin route ``DELETE /__emulator/secrets/SCRIPT/NAME``: a secret deleted as the dashboard deletes it, from the
    deployed version, even while a later version is not deployed (after a rollback); the sandbox's secret-missing break."""
    with state.lock:
        try:
            current = _current_version(_script(state, script))
        except (ApiFailure, StopIteration):
            return 404, {"error": f"no deployed Worker {script}"}
        if name not in current["_secrets"]:
            return 404, {"error": f"{script} has no secret {name}"}
        version = _secret_change(state, script, {k: v for k, v in current["_secrets"].items() if k != name},
                                 f"secret {name} deleted", from_deployed=True)
    return 200, {"version_id": version["id"]}


# --- KV -----------------------------------------------------------------------------------

def _paged(items: list[Any], req: Request, default: int = 20) -> Reply:
    page, per_page = max(1, int(req.query.get("page", 1))), max(1, min(1000, int(req.query.get("per_page", default))))
    window = items[(page - 1) * per_page: page * per_page]
    total = len(items)
    return 200, window, {"page": page, "per_page": per_page, "count": len(window), "total_count": total,
                         "total_pages": max(1, -(-total // per_page))}


def _namespace(state: State, ns: str) -> dict[str, Any]:
    namespace: dict[str, Any] | None = state.data["kv"].get(ns)
    if namespace is None:
        raise ApiFailure(404, 10013, "namespace not found")
    return namespace


@route("GET", "/storage/kv/namespaces",
       f"{TS}kv/namespaces/namespaces.ts Namespace (page-numbered)")
def list_namespaces(state: State, req: Request) -> Reply:
    items = [{"id": k, "title": v["title"], "supports_url_encoding": True} for k, v in state.data["kv"].items()]
    return _paged(items, req)


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


# --- D1, R2, queues, Durable Objects -------------------------------------------------------

@route("GET", "/d1/database",
       f"{TS}d1/database/database.ts DatabaseListResponse")
def list_d1(state: State, req: Request) -> Reply:
    items = list(state.data["d1"])
    if req.query.get("name"):
        items = [d for d in items if d.get("name") == req.query["name"]]
    return _paged(items, req)


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


def _queue(state: State, queue_id: str) -> dict[str, Any]:
    queue: dict[str, Any] | None = state.data["queues"].get(queue_id)
    if queue is None:
        raise ApiFailure(404, 11000, "Queue does not exist")
    return queue


def _public_queue(queue_id: str, queue: dict[str, Any]) -> dict[str, Any]:
    return {"queue_id": queue_id, "queue_name": queue["queue_name"], "created_on": queue["created_on"],
            "modified_on": queue["created_on"], "producers": queue.get("producers", []),
            "producers_total_count": len(queue.get("producers", [])), "consumers": queue["consumers"],
            "consumers_total_count": len(queue["consumers"]), "settings": {"delivery_delay": 0}}


@route("GET", "/queues",
       f"{TS}queues/queues.ts Queue; paging and ?name= as {DEPLOY_HELPERS}triggers/queue-consumers.ts listQueues; "
       f"a repeated ?name= (one per queue) as {WRANGLER}queues/client.ts listAllQueues")
def list_queues(state: State, req: Request) -> Reply:
    items = [_public_queue(k, v) for k, v in state.data["queues"].items()]
    names = req.repeated.get("name") or ([req.query["name"]] if req.query.get("name") else [])
    if names:
        items = [q for q in items if q["queue_name"] in names]
    return _paged(items, req)


@route("POST", "/queues",
       f"{TS}queues/queues.ts QueueCreateParams/Queue")
def create_queue(state: State, req: Request) -> Reply:
    name = (req.json() or {}).get("queue_name")
    if not name:
        raise ApiFailure(400, 11003, "a queue needs a queue_name")
    if any(q["queue_name"] == name for q in state.data["queues"].values()):
        raise ApiFailure(400, 11009, "A queue with this name already exists")
    queue_id = hex_id()
    state.data["queues"][queue_id] = {"queue_name": name, "created_on": now(), "consumers": [], "producers": []}
    state.save()
    return 200, _public_queue(queue_id, state.data["queues"][queue_id]), None


@route("GET", "/queues/{queue}",
       f"{TS}queues/queues.ts get/Queue")
def get_queue(state: State, req: Request) -> Reply:
    return 200, _public_queue(req.params["queue"], _queue(state, req.params["queue"])), None


def _consumer_script(consumer: dict[str, Any]) -> Any:
    return consumer.get("script_name") or consumer.get("script")


@route("DELETE", "/queues/{queue}",
       f"{TS}queues/queues.ts delete")
def delete_queue(state: State, req: Request) -> Reply:
    _queue(state, req.params["queue"])
    del state.data["queues"][req.params["queue"]]
    state.save()
    return 200, None, None


@route("GET", "/queues/{queue}/consumers",
       f"{TS}queues/consumers.ts Consumer (MqWorkerConsumerResponse | MqHTTPConsumerResponse)")
def list_consumers(state: State, req: Request) -> Reply:
    return 200, _queue(state, req.params["queue"])["consumers"], None


@route("POST", "/queues/{queue}/consumers",
       f"{TS}queues/consumers.ts ConsumerCreateParams/Consumer; `script` as {DEPLOY_HELPERS}triggers/queue-consumers.ts ScriptReference")
def create_consumer(state: State, req: Request) -> Reply:
    queue = _queue(state, req.params["queue"])
    body = req.json() or {}
    kind = body.get("type", "worker")
    if kind == "http_pull":
        return _create_pull_consumer(state, queue, body)
    if kind != "worker" or not (body.get("script_name") or body.get("script")):
        raise ApiFailure(400, 11004, "a worker consumer needs type \"worker\" and a script_name")
    script = str(body.get("script_name") or body.get("script"))
    if any(_consumer_script(c) == script for c in queue["consumers"]):
        raise ApiFailure(400, 11008, f"Worker {script} is already a consumer of this queue")
    if any(c.get("type") == "http_pull" for c in queue["consumers"]):
        raise ApiFailure(400, 11004, "a queue cannot have both a Worker consumer and an HTTP pull consumer")
    consumer = {"consumer_id": hex_id(), "type": "worker", "script_name": script, "script": script, "created_on": now(),
                "queue_name": queue["queue_name"], "settings": body.get("settings") or {},
                **({"dead_letter_queue": body["dead_letter_queue"]} if body.get("dead_letter_queue") else {})}
    queue["consumers"].append(consumer)
    state.save()
    for hook in live_hook:
        hook(script)
    deliver_waiting(state, queue)
    return 200, consumer, None


def deliver_waiting(state: State, queue: dict[str, Any]) -> None:
    """Hand a Worker consumer the messages that waited in its queue, as Cloudflare does once one is attached."""
    waiting = [m for m in queue.get("messages") or [] if not m.get("lease_id")]
    if not waiting or not deliver_hook:
        return
    for hook in deliver_hook:  # the hook takes the messages over (the sandbox's bridge retries them)
        hook(queue["queue_name"], [{"body": m["body"], "content_type": "json" if m["content_type"] == "v8" else m["content_type"]}
                                   for m in waiting])  # a v8 message is kept as its JSON text
    queue["messages"] = [m for m in queue["messages"] if m.get("lease_id")]
    state.save()


def _create_pull_consumer(state: State, queue: dict[str, Any], body: dict[str, Any]) -> Reply:
    if queue["consumers"]:
        raise ApiFailure(400, 11004, "a queue cannot have both a Worker consumer and an HTTP pull consumer")
    consumer = {"consumer_id": hex_id(), "type": "http_pull", "created_on": now(), "queue_name": queue["queue_name"],
                "settings": body.get("settings") or {},
                **({"dead_letter_queue": body["dead_letter_queue"]} if body.get("dead_letter_queue") else {})}
    queue["consumers"].append(consumer)
    state.save()
    return 200, consumer, None


@route("PUT", "/queues/{queue}/consumers/{consumer}",
       f"{TS}queues/consumers.ts ConsumerUpdateParams")
def update_consumer(state: State, req: Request) -> Reply:
    queue = _queue(state, req.params["queue"])
    consumer = next((c for c in queue["consumers"] if c["consumer_id"] == req.params["consumer"]), None)
    if consumer is None:
        raise ApiFailure(404, 11005, "Consumer does not exist")
    body = req.json() or {}
    consumer["settings"] = body.get("settings") or consumer["settings"]
    consumer["dead_letter_queue"] = body.get("dead_letter_queue", consumer.get("dead_letter_queue"))
    state.save()
    return 200, consumer, None


@route("DELETE", "/queues/{queue}/consumers/{consumer}",
       f"{TS}queues/consumers.ts delete")
def delete_consumer(state: State, req: Request) -> Reply:
    queue = _queue(state, req.params["queue"])
    consumer = next((c for c in queue["consumers"] if c["consumer_id"] == req.params["consumer"]
                     or _consumer_script(c) == req.params["consumer"]), None)
    if consumer is None:
        raise ApiFailure(404, 11005, "Consumer does not exist")
    queue["consumers"].remove(consumer)
    state.save()
    script = _consumer_script(consumer)
    for hook in live_hook if script else ():
        hook(str(script))
    return 200, None, None


@route("GET", "/workers/durable_objects/namespaces",
       f"{TS}durable-objects/namespaces/namespaces.ts Namespace")
def list_durable_objects(state: State, req: Request) -> Reply:
    items = []
    for name, script in state.data["scripts"].items():
        if not script["deployments"]:
            continue
        for binding in _current_version(script)["resources"]["bindings"]:
            if binding.get("type") == "durable_object_namespace" and binding.get("class_name"):
                ns_id = hashlib.sha256(f"{name}:{binding['class_name']}".encode()).hexdigest()[:32]
                items.append({"id": ns_id, "name": f"{name}_{binding['class_name']}", "script": name,
                              "class": binding["class_name"], "use_sqlite": False})
    return _paged(items, req)
