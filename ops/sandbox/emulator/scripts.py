"""Scripts, their versions and deployments, settings, schedules and subdomains; the Durable Object
namespaces their versions bind."""

from __future__ import annotations

import hashlib
import json
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from ops.sandbox.emulator.routing import (DEPLOY_HELPERS, TS, WRANGLER, ApiFailure, Raw, Reply, Request, live_hook,
                                          paged, route, upload_hooks)
from ops.sandbox.emulator.queues import _consumer_script
from ops.sandbox.emulator.state import State, hex_id, new_id, now


NOT_FOUND_SCRIPT = (404, 10007, "This Worker does not exist on your account.")
CARRIED = ("_migrations", "_assets")  # what a version made from another (a secret change) keeps of it
MAX_ROLLBACK_VERSIONS = 100  # since 2025-09-11 (Cloudflare changelog, "increased version rollback limit")
SCRIPT_SIZE_LIMIT = 64 * 2**20
# Documented elsewhere than in the API reference: 10079 as the API answers it (workers-sdk issues #705
# and #6953 quote it), 10211 as cloudflare-docs issue #32982 quotes it.
VERSION_UPLOAD_WITH_MIGRATION = (400, 10211, "Version upload failed. You attempted to upload a version of a Worker "
                                 "that includes a Durable Object migration, but migrations must be fully applied via "
                                 "a non-versioned deployment. Refer to the documentation for more information.")


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
                      "script": {"etag": hex_id(), "handlers": ["fetch", "queue"] if modules else [],
                                 "last_deployed_from": source},
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
    if not any(f[0] == main_module for f in files) and not assets_only(metadata, files):
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
    latest = existing["versions"][0] if existing and existing["versions"] else None
    keep_secrets = "secret_text" in (metadata.get("keep_bindings") or [])
    # A script upload keeps the deployed secrets (wrangler deploy asks to, with keep_bindings); a version upload keeps
    # only what it names or asks to keep (wrangler 4.86's versions secret delete names the rest, without keep_bindings).
    secrets = (dict(_current_version(existing)["_secrets"])
               if existing and existing["deployments"] and (keep_secrets or triggered_by != "version_upload") else {})
    if latest is not None and keep_secrets:
        secrets = {**secrets, **latest["_secrets"]}
    for binding in metadata.get("bindings", []):
        if binding.get("type") == "secret_text":
            secrets[binding["name"]] = binding.get("text", "")
        elif binding.get("type") == "inherit":
            source = inherited_from(existing, binding)
            old = str(binding.get("old_name") or binding.get("name"))
            if source is not None and old in source["_secrets"]:
                secrets[binding["name"]] = source["_secrets"][old]
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


def assets_only(metadata: dict[str, Any], files: list[tuple[str, str, bytes]]) -> bool:
    """An assets-only Worker (a config with ``assets`` and no ``main``): wrangler sends no module, only the metadata
    ``{assets: {jwt, config}, annotations, compatibility_date, compatibility_flags}`` (deploy-helpers'
    create-worker-upload-form.ts, ``assets && !assets.routerConfig.has_user_worker``); Cloudflare serves its assets."""
    asked = metadata.get("assets")
    return not files and isinstance(asked, dict) and bool(asked.get("jwt"))


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
    resolves against its ``version_id`` ("the version ID or the literal \"latest\" ... Defaults to inheriting
    the binding from the latest version"): with ``bindings_inherit=strict`` one that does not resolve fails
    the upload with 10057, one error per binding, beginning with the words wrangler parses
    (workers-sdk packages/deploy-helpers/src/deploy/helpers/secrets-validation.ts
    ``handleMissingSecretsError``; the rest of each message is ours); without it, it is dropped. A
    ``version_id`` naming no version of the Worker fails the upload (the emulator's own 10057 wording)."""
    for binding in bindings:
        if binding.get("type") == "kv_namespace" and binding.get("namespace_id") not in state.data["kv"]:
            raise ApiFailure(400, 10042, f"KV namespace '{binding.get('namespace_id')}' is not valid. "
                                         "Please verify the namespace_id in your configuration.")
    resolved, unresolved = [], []
    for binding in bindings:
        if binding.get("type") != "inherit":
            resolved.append(binding)
            continue
        source = inherited_from(existing, binding)
        secrets = set(source["_secrets"]) if source else set()
        kept = {b["name"]: b for b in source["resources"]["bindings"] if b.get("type") != "secret_text"} if source else {}
        old = str(binding.get("old_name") or binding.get("name"))
        if old in kept:  # the source version's binding, under the name asked for
            resolved.append({**kept[old], "name": binding.get("name")})
        elif old not in secrets:  # a secret is carried with the version's secrets
            unresolved.append(str(binding.get("name")))
    if unresolved and strict:
        errors = [(10057, f"inherit binding '{n}' is invalid: the latest version has no binding of that name")
                  for n in unresolved]
        raise ApiFailure(400, *errors[0], more=errors[1:])
    return resolved


def inherited_from(existing: dict[str, Any] | None, binding: dict[str, Any]) -> dict[str, Any] | None:
    """The version an ``inherit`` binding names (``version_id``: an id, or \"latest\", the default)."""
    versions = existing["versions"] if existing else []
    wanted = binding.get("version_id")
    if wanted in (None, "", "latest"):
        return versions[0] if versions else None
    found: dict[str, Any] | None = next((v for v in versions if v["id"] == wanted), None)
    if found is None:
        raise ApiFailure(400, 10057, f"inherit binding '{binding.get('name')}' is invalid: version {wanted} "
                                     "does not exist on this Worker")
    return found


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
       f"{TS}workers/scripts/versions.ts VersionCreateParams/VersionCreateResponse (an inherit binding's version_id, "
       f"WorkersBindingKindInherit); {WRANGLER}versions/upload.ts; secrets kept only by keep_bindings or by name, as "
       f"{WRANGLER}versions/secrets/index.ts copyWorkerVersionWithNewSecrets (overrideAllSecrets) relies on; "
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
       f"versions as {WRANGLER}versions/deploy.ts (max-versions, default 2); errors 10220 (a rollback only: "
       f"versions/deploy.ts has no 10220 path after `versions secret put`), 10215 as "
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
    newest = script["versions"][0]["number"]
    for version in chosen:
        changed = sorted(k for k in set(current["_secrets"]) | set(version["_secrets"])
                         if current["_secrets"].get(k) != version["_secrets"].get(k))
        # A rollback only: the newest version, made with a secret change, deploys as the documented gradual
        # secret rollout does (`wrangler versions secret put`, then `wrangler versions deploy`, which has no 10220 path).
        rollback = version["number"] < newest
        if changed and rollback and version["id"] not in live and req.query.get("force") != "true":
            raise ApiFailure(400, 10220, "A rollback to this version would change secrets. "
                                         f"The following secrets have changed: {', '.join(changed)}")
    message = (body.get("annotations") or {}).get("workers/message")
    if isinstance(message, str):
        message = message.encode()[:1000].decode(errors="ignore")  # "Truncated to 1000 bytes if longer"
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
    return paged(items, req)
