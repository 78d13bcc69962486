"""Materialize the control plane's live version as files that the running `wrangler dev` serves.

The emulator calls ``materialize`` whenever the active deployment of a script
changes; wrangler dev watches its config and reloads, so the Worker on workerd
follows deploys, rollbacks and secret rotations. Each script has its own folder
(``live/<script>/``). Files are written atomically; `.dev.vars` always changes
with the version (it names it), because a change to it is what reliably makes
wrangler dev 4.86 reload config and secrets; the entry goes last (see below).

The entry is the sandbox's shim (``shim.mjs``) in front of the Worker's own main
module: it gives the ``version_metadata`` binding the control plane's version
(``wrangler dev`` would give it a random id of its own) and tells the recording
proxy which version answered.

An assets-only Worker (no main module) is served as Cloudflare serves it: every request
from its assets. `wrangler dev` serves a path that names an asset before any Worker runs;
any other path reaches the shim, whose stand-in module (``ASSETS_ONLY``) hands it back to
the assets, which answer it by the Worker's ``not_found_handling``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ops.sandbox.contract import LiveVersion

CONFIG = "wrangler.json"
ENTRY = "__sandbox_entry.mjs"
STAMP = "stamp"  # a digest of the config and secrets last written: a consumer change keeps the version id
SHIM = Path(__file__).with_name("shim.mjs")
SPLIT_SUFFIX = "@split"  # live/<script>@split/: a split deployment's second version
SPLIT_URL = "url"  # in that folder: where its `wrangler dev` answers, while it runs
ASSETS = "assets"  # live/<script>/assets/<version>/: the version's static assets
NOT_GIVEN = "not-given.json"  # the version's bindings that wrangler dev cannot give it here (ops.sandbox.unhealthy)
EMULATOR_URL = "SANDBOX_EMULATOR_URL"  # in overrides.json: where the shim's D1 facade reaches the emulator's D1
ASSETS_ONLY = "__sandbox_assets_only.mjs"  # the stand-in main module of an assets-only Worker
ASSETS_ONLY_BINDING = "__SANDBOX_ASSETS"
ASSETS_ONLY_MODULE = (f"// An assets-only Worker runs no code: a path that is no asset is answered by the assets' not_found_handling.\n"
                      f"export default {{ fetch: (request, env) => env.{ASSETS_ONLY_BINDING}.fetch(request) }};\n")


def materialize(live: LiveVersion, live_dir: Path, *, port_overrides: dict[str, str] | None = None) -> None:
    live_dir.mkdir(parents=True, exist_ok=True)
    code = live_dir / "versions" / live.version_id
    for module in live.modules:
        _write(code / module.name, module.content)
    if not live.main_module:
        _write(code / ASSETS_ONLY, ASSETS_ONLY_MODULE.encode())
    for path, content in _asset_files(live).items():  # beside the code, not in it: wrangler dev would take .js as modules
        _write(live_dir / ASSETS / live.version_id / path, content)
    config = json.dumps(config_for(live, port_overrides or {}), indent=2)
    secrets = "".join(f"{k}={dotenv_quote(v)}\n" for k, v in sorted(live.secrets.items()))
    stamp = hashlib.sha256(f"{config}\0{secrets}".encode()).hexdigest()[:16]
    _write(live_dir / CONFIG, config.encode())
    _write(live_dir / NOT_GIVEN, json.dumps(not_given(live)).encode())
    _write(live_dir / ".dev.vars", f"# live version {live.version_id}\n{secrets}".encode())
    # The entry carries the stamp, so it goes last: a reload that serves this stamp has read every file above.
    _write(code / ENTRY, entry_module(live, stamp).encode())
    _write(live_dir / STAMP, stamp.encode())


def split_dir_name(script: str) -> str:
    """The folder (beside the script's own) of a split deployment's second version, served by a second `wrangler dev`."""
    return f"{script}{SPLIT_SUFFIX}"


def split_url(split_dir: Path) -> str | None:
    """Where the second `wrangler dev` answers, as its follower wrote it once it served (None: not running)."""
    try:
        return (split_dir / SPLIT_URL).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def write_split_url(split_dir: Path, url: str | None) -> None:
    if url is None:
        (split_dir / SPLIT_URL).unlink(missing_ok=True)
    else:
        _write(split_dir / SPLIT_URL, url.encode())


def materialized_stamp(live_dir: Path) -> str | None:
    """Which materialization was written last; the Worker serves it once its shim reports the same stamp."""
    try:
        return (live_dir / STAMP).read_text(encoding="utf-8").strip()
    except OSError:
        return None


def entry_module(live: LiveVersion, stamp: str) -> str:
    binding = next((b["name"] for b in live.bindings if b.get("type") == "version_metadata"), None)
    meta = {"binding": binding, "script": live.script, "id": live.version_id, "tag": live.tag, "timestamp": live.created_on, "stamp": stamp}
    main = "./" + (live.main_module or ASSETS_ONLY)
    return SHIM.read_text(encoding="utf-8").replace('"./__MAIN__"', json.dumps(main)).replace("__META__", json.dumps(meta))


def dotenv_quote(value: str) -> str:
    """A value that wrangler's `.dev.vars` reader gives back unchanged.

    wrangler 4.86 reads `.dev.vars` with ``dotenv.parse`` (dotenv 16.3.1, no
    variable expansion there): a value in single quotes or backticks is taken
    literally, newlines included; one in double quotes has ``\\n`` and ``\\r``
    turned into line breaks. So: single quotes, else backticks, else double
    quotes when that changes nothing.
    """
    for quote in ("'", "`"):
        if quote not in value:
            return f"{quote}{value}{quote}"
    if '"' not in value and "\\n" not in value and "\\r" not in value:
        return f'"{value}"'
    raise ValueError("the sandbox cannot write this secret into .dev.vars (it holds ', ` and \" or \\n together)")


def config_for(live: LiveVersion, overrides: dict[str, str]) -> dict[str, Any]:
    variables = {b["name"]: b.get("text", "") for b in live.bindings if b.get("type") == "plain_text"}
    variables.update({b["name"]: b.get("json") for b in live.bindings if b.get("type") == "json"})
    variables.update({k: v for k, v in overrides.items() if k in variables and k != EMULATOR_URL})  # provider URLs on other ports
    variables["QUEUE_CONSUMER_ATTACHED"] = "true" if live.queue_consumers else "false"
    variables["SANDBOX_PRODUCERS"] = {b["queue_name"]: b["name"] for b in live.bindings if b.get("type") == "queue"}
    variables["SANDBOX_KV"] = {b["namespace_id"]: b["name"] for b in live.bindings if b.get("type") == "kv_namespace"}
    emulator = overrides.get(EMULATOR_URL, "")
    variables["SANDBOX_D1"] = {b["name"]: f"{emulator}/__emulator/d1/{b['id']}/query" for b in live.bindings if b.get("type") == "d1"}
    dead_letters = _dead_letter_queues(live)
    variables["SANDBOX_DLQ"] = {name: f"{emulator}/__emulator/queues/{name}/messages" for name in dead_letters}
    # Sandbox only: where the shim reports what the Worker's local queues hold (graphql_queues).
    variables["SANDBOX_QUEUE_LOCAL"] = f"{emulator}/__emulator/queues" if emulator else ""
    config: dict[str, Any] = {
        "name": live.script,
        "main": f"versions/{live.version_id}/{ENTRY}",
        "compatibility_date": live.compatibility_date or "2026-04-01",
        "compatibility_flags": compatibility_flags(live.compatibility_flags),
        "no_bundle": True,
        "vars": variables,
        "kv_namespaces": [{"binding": b["name"], "id": b["namespace_id"]} for b in live.bindings if b.get("type") == "kv_namespace"],
        # R2 objects live in wrangler dev's local store: the emulator lists buckets, it holds no objects.
        "r2_buckets": [{"binding": b["name"], "bucket_name": b["bucket_name"]} for b in live.bindings
                       if b.get("type") == "r2_bucket" and b.get("bucket_name")],
        # The Worker's own Durable Object classes, which wrangler dev runs locally (another script's are not served).
        "durable_objects": {"bindings": [{"name": b["name"], "class_name": b["class_name"]} for b in live.bindings
                                         if b.get("type") == "durable_object_namespace" and b.get("class_name")
                                         and b.get("script_name") in (None, "", live.script)]},
        "queues": {
            "producers": [{"binding": b["name"], "queue": b["queue_name"]} for b in live.bindings if b.get("type") == "queue"],
            "consumers": [{"queue": c.queue_name, "max_batch_size": int(c.settings.get("batch_size", 10)),
                           "max_batch_timeout": max(1, int(c.settings.get("max_wait_time_ms", 1000)) // 1000),
                           **{key: int(c.settings[key]) for key in ("max_retries", "retry_delay")
                              if c.settings.get(key) is not None},
                           **({"dead_letter_queue": c.dead_letter_queue} if c.dead_letter_queue else {})}
                          for c in live.queue_consumers]
                         + [{"queue": name, "max_batch_size": 100, "max_batch_timeout": 1} for name in dead_letters],
        },
        "rules": [{"type": "ESModule", "globs": ["**/*.js", "**/*.mjs"]}],
    }
    objects = [b for b in live.bindings if b.get("type") == "durable_object_namespace" and b.get("class_name")]
    if objects:  # the Worker's own classes (exported through the entry) and the migrations that made them
        config["durable_objects"] = {"bindings": [
            {"name": b["name"], "class_name": b["class_name"], **({"script_name": b["script_name"]} if b.get("script_name") else {})}
            for b in objects]}
        config["migrations"] = [dict(step) for step in live.migrations]
    services = [{"binding": b["name"], "service": b["service"], **({"entrypoint": b["entrypoint"]} if b.get("entrypoint") else {})}
                for b in live.bindings if b.get("type") == "service" and b.get("service")]
    if services:  # wrangler dev reaches a Worker running in another wrangler dev on this machine (its dev registry)
        config["services"] = services
    workflows = [{"binding": b["name"], "name": b["workflow_name"], "class_name": b["class_name"],
                  **({"script_name": b["script_name"]} if b.get("script_name") else {})}
                 for b in live.bindings if b.get("type") == "workflow" and b.get("workflow_name")]
    if workflows:  # wrangler dev runs the instances locally
        config["workflows"] = workflows
    if live.assets is not None:
        binding = next((b["name"] for b in live.bindings if b.get("type") == "assets"),
                       None if live.main_module else ASSETS_ONLY_BINDING)
        config["assets"] = {"directory": f"{ASSETS}/{live.version_id}", **({"binding": binding} if binding else {}),
                            **{k: v for k, v in live.assets_config.items()
                               if not k.startswith("_") and (live.main_module or k != "run_worker_first")}}
    return config


# The binding types of the upload metadata (deploy-helpers' create-worker-upload-form.ts) that config_for gives
# wrangler dev; secrets go through .dev.vars, version_metadata through the shim.
GIVEN = frozenset({"plain_text", "json", "secret_text", "kv_namespace", "r2_bucket", "queue", "d1", "durable_object_namespace",
                   "service", "workflow", "assets", "version_metadata", "inherit"})
# The bindings with no local simulation in wrangler dev (developers.cloudflare.com/workers/local-development/
# bindings-per-env/: only a remote binding connection, to a Cloudflare account); the sandbox is loopback-only.
REMOTE_ONLY = {"ai": "Workers AI", "vectorize": "Vectorize", "mtls_certificate": "mTLS"}


def not_given(live: LiveVersion) -> list[str]:
    """The version's bindings that config_for leaves out, each with why: the Worker finds them undefined here."""
    def why(kind: str) -> str:
        if kind in REMOTE_ONLY:
            return f"wrangler dev has no local simulation of {REMOTE_ONLY[kind]}, only Cloudflare's own"
        return "the sandbox does not give wrangler dev this kind of binding yet"

    elsewhere = [f"{b.get('name')} ({b.get('type')} of {other}): answers only while {other} runs in a wrangler dev on this "
                 "machine" for b in live.bindings
                 if b.get("type") in ("service", "durable_object_namespace")
                 and (other := b.get("service") or b.get("script_name")) and other != live.script]
    return [f"{b.get('name')} ({b.get('type')}): {why(str(b.get('type')))}" for b in live.bindings
            if b.get("type") not in GIVEN] + elsewhere


def _asset_files(live: LiveVersion) -> dict[str, bytes]:
    """The files `wrangler dev` serves, with ``_headers`` and ``_redirects`` back as the files wrangler read them from."""
    if live.assets is None:
        return {}
    rules = {name: str(live.assets_config[name]).encode() for name in ("_headers", "_redirects") if live.assets_config.get(name)}
    return {**live.assets, **rules}
def compatibility_flags(flags: tuple[str, ...] | list[str]) -> list[str]:
    """The Worker's flags, with what the shim's AsyncLocalStorage needs (``nodejs_als``) unless a Node flag gives it."""
    if any(flag in ("nodejs_compat", "nodejs_compat_v2", "nodejs_als") for flag in flags):
        return list(flags)
    return [*flags, "nodejs_als"]


def _dead_letter_queues(live: LiveVersion) -> list[str]:
    """The dead-letter queues of the Worker's consumers that nothing in it consumes.

    Locally, `wrangler dev` moves a job that failed its retries to a queue of its own; the
    sandbox consumes that queue in the shim, which hands each job to the emulator's queue of
    the same name: where the Queues API (a DLQ replay, a peek) finds it, as on Cloudflare.
    """
    consumed = {c.queue_name for c in live.queue_consumers}
    return sorted({c.dead_letter_queue for c in live.queue_consumers
                   if c.dead_letter_queue and c.dead_letter_queue not in consumed})


def read_overrides(live_root: Path) -> dict[str, str]:
    """Provider URLs for sandboxes on non-default ports (written by the manager at the root of the live dirs)."""
    path = live_root / "overrides.json"
    if not path.exists():
        return {}
    data: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _write(path: Path, data: bytes) -> None:
    """Write ``data`` unless the file holds it already: wrangler dev reloads on any write, and a reload holds the
    requests that arrive meanwhile (a deployment that keeps the version, a split's step, must not stall it)."""
    try:
        if path.read_bytes() == data:
            return
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
