"""Layer 2: wrangler's semantic validation, the rules its JSON Schema cannot say.

Each rule follows ``normalizeAndValidateConfig`` in workers-sdk
(packages/workers-utils/src/config/validation.ts and validation-helpers.ts at
the wrangler@4.86.0 tag); ``ops/gates/RULES.md`` lists every rule of that file
with our code for it, or why we do not check it."""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

from ops.documents.config import Config, Key
from ops.documents.wrangler_config import NOT_INHERITED, TOP, items, queues_of, section
from ops.gates.result import Finding
from ops.gates.schema import version_key

# friendlyBindingNames (validation.ts): the fields validateBindingsHaveUniqueNames reads names from
FRIENDLY = {
    "data_blobs": "Data Blob", "durable_objects": "Durable Object", "kv_namespaces": "KV Namespace", "send_email": "Send Email",
    "queues": "Queue", "d1_databases": "D1 Database", "vectorize": "Vectorize Index", "ai_search_namespaces": "AI Search Namespace",
    "ai_search": "AI Search Instance", "hyperdrive": "Hyperdrive Config", "r2_buckets": "R2 Bucket", "logfwdr": "logfwdr",
    "services": "Worker", "analytics_engine_datasets": "Analytics Engine Dataset", "text_blobs": "Text Blob",
    "browser": "Browser Run", "ai": "AI", "images": "Images", "stream": "Stream", "media": "Media",
    "version_metadata": "Worker Version Metadata", "unsafe": "Unsafe Metadata", "vars": "Environment Variable",
    "wasm_modules": "Wasm Module", "dispatch_namespaces": "Dispatch Namespace", "mtls_certificates": "mTLS Certificate",
    "workflows": "Workflow", "pipelines": "Pipeline", "secrets_store_secrets": "Secrets Store Secret", "artifacts": "Artifacts",
    "ratelimits": "Rate Limit", "assets": "Assets", "unsafe_hello_world": "Hello World", "flagship": "Flagship",
    "worker_loaders": "Worker Loader", "vpc_services": "VPC Service", "vpc_networks": "VPC Network",
}
# fields whose env copy wrangler compares binding by binding with the top level's (validateBindingArray,
# validateBindingsProperty, validateVars, validateDefines, validateQueues)
PER_BINDING = (
    "ai_search", "ai_search_namespaces", "analytics_engine_datasets", "artifacts", "d1_databases", "define", "dispatch_namespaces",
    "durable_objects", "flagship", "hyperdrive", "kv_namespaces", "mtls_certificates", "pipelines", "queues", "r2_buckets",
    "ratelimits", "secrets_store_secrets", "send_email", "services", "unsafe", "unsafe_hello_world", "vars", "vectorize",
    "vpc_networks", "vpc_services", "worker_loaders", "workflows",
)
RENAMED_INSTANCE_TYPES = {"dev": "lite", "standard": "standard-1"}
TOP_LEVEL_ONLY = ("dev", "site", "alias", "wasm_modules", "text_blobs", "data_blobs")  # read from the raw top level
NAME_RE = re.compile(r"^$|^[a-z0-9_][a-z0-9-_]*$")
R2_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
DATE_RE = re.compile(r"^[+-]?\d{4,6}(-\d{2}(-\d{2})?)?([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
# experimental(...) fields, with the first version known not to warn (4.164 no longer warns about "secrets")
EXPERIMENTAL = {"unsafe": None, "secrets": "4.164.0"}


def rule_findings(config: Config, env: str, data: dict[str, Any], where: dict[str, Key], version: str) -> Iterator[Finding]:
    """wrangler's semantic rules for one environment (``data`` is what wrangler uses for it) in wrangler ``version``."""
    raw, prefix = section(config, env)
    yield from _name(config, env, data, where)
    yield from _date(config, env, data, where)
    yield from _removed_and_experimental(config, env, raw, prefix, version)
    yield from _empty_strings(config, env, raw, prefix)
    yield from _migrations(config, env, data, where)
    yield from _queue_consumers(config, env, data, where)
    yield from _containers(config, env, data, where)
    yield from _site(config, env, data)
    yield from _r2_names(config, env, data, where)
    yield from _unique_names(config, env, data, where)
    yield from _durable_objects_without_migrations(config, env, data, where)
    yield from not_inherited(config, env)


def _finding(config: Config, severity: str, code: str, key: Key, message: str, env: str, **detail: Any) -> Finding:
    line, col = config.where(key)
    return Finding(severity, code, message, str(config.path), line, col, env, {"layer": "wrangler", **detail})


def _js(value: Any) -> str:
    return json.dumps(value)


def _name(config: Config, env: str, data: dict[str, Any], where: dict[str, Key]) -> Iterator[Finding]:
    """inheritable() validates the name written in the env, not the ``<name>-<env>`` it computes from the top's."""
    raw, prefix = section(config, env)
    name = raw.get("name")
    if name is not None and (not isinstance(name, str) or not NAME_RE.match(name)):
        yield _finding(config, "error", "invalid-name", (*prefix, "name"),
                       f'Expected "name" to be of type string, alphanumeric and lowercase with dashes only but got {_js(name)}.', env)


def _date(config: Config, env: str, data: dict[str, Any], where: dict[str, Key]) -> Iterator[Finding]:
    date = data.get("compatibility_date")
    if not isinstance(date, str):
        return
    key = where.get("compatibility_date", ())
    if "–" in date or "—" in date:
        yield _finding(config, "error", "invalid-compatibility-date", key,
                       '"compatibility_date" field should use ISO-8601 accepted hyphens (-) rather than en-dashes (–) or em-dashes (—).', env)
    elif not DATE_RE.match(date.strip()):
        yield _finding(config, "error", "invalid-compatibility-date", key,
                       f'"compatibility_date" field should be a valid ISO-8601 date (YYYY-MM-DD), but got {_js(date)}.', env)


def _removed_and_experimental(config: Config, env: str, raw: dict[str, Any], prefix: Key, version: str) -> Iterator[Finding]:
    if "node_compat" in raw:
        yield _finding(config, "error", "removed-field", (*prefix, "node_compat"),
                       'The "node_compat" field is no longer supported as of Wrangler v4; use the `nodejs_compat` compatibility flag', env)
    for field, until in EXPERIMENTAL.items():
        if field in raw and (until is None or version_key(version) < version_key(until)):
            yield _finding(config, "warning", "experimental-field", (*prefix, field),
                           f'"{field}" fields are experimental and may change or break at any time.', env, field=field)


def _empty_strings(config: Config, env: str, raw: dict[str, Any], prefix: Key) -> Iterator[Finding]:
    for field in ("account_id", "route"):
        if raw.get(field) == "":
            yield _finding(config, "warning", "empty-string-ignored", (*prefix, field),
                           f'The "{field}" field in your configuration is an empty string and will be ignored; remove it', env,
                           field=field)


def _migrations(config: Config, env: str, data: dict[str, Any], where: dict[str, Key]) -> Iterator[Finding]:
    migrations = data.get("migrations")
    base = where.get("migrations", ("migrations",))
    for index, migration in enumerate(migrations if isinstance(migrations, list) else []):
        if not isinstance(migration, dict):
            continue
        for field, parts in (("renamed_classes", ("from", "to")), ("transferred_classes", ("from", "from_script", "to"))):
            value = migration.get(field)
            if value is not None and (not isinstance(value, list) or any(
                    not isinstance(item, dict) or any(not isinstance(item.get(p), str) for p in parts) for item in value)):
                shape = ", ".join(f"{p}: string" for p in parts)
                yield _finding(config, "error", "invalid-migration", (*base, index, field),
                               f'Expected "migrations[{index}].{field}" to be an array of "{{{shape}}}" objects but got {_js(value)}.', env)


def _queue_consumers(config: Config, env: str, data: dict[str, Any], where: dict[str, Key]) -> Iterator[Finding]:
    for index, consumer in enumerate(items(queues_of(data).get("consumers"))):
        if isinstance(consumer, dict) and consumer.get("type", "worker") not in ("worker", "http_pull"):
            yield _finding(config, "error", "queue-consumer-type", (*where.get("queues", ("queues",)), "consumers", index, "type"),
                           f'queue consumer "type" must be "worker" or "http_pull" (got {_js(consumer.get("type"))})', env)


def _containers(config: Config, env: str, data: dict[str, Any], where: dict[str, Key]) -> Iterator[Finding]:
    containers = data.get("containers")
    for index, container in enumerate(containers if isinstance(containers, list) else []):
        image = container.get("image") if isinstance(container, dict) else None
        renamed = RENAMED_INSTANCE_TYPES.get(str(container.get("instance_type"))) if isinstance(container, dict) else None
        if renamed:
            yield _finding(config, "warning", "deprecated-instance-type",
                           (*where.get("containers", ("containers",)), index, "instance_type"),
                           f'The "{container["instance_type"]}" instance_type has been renamed to "{renamed}"; use "{renamed}"', env)
        if isinstance(image, str) and not (config.path.parent / image).exists() and ":" not in image.rsplit("/", 1)[-1]:
            yield _finding(config, "error", "container-image-invalid", (*where.get("containers", ("containers",)), index, "image"),
                           f'The image {_js(image)} does not appear to be a valid path to a Dockerfile, or a valid image '
                           "registry path with a tag (e.g. docker.io/httpd:1)", env)


def _site(config: Config, env: str, data: dict[str, Any]) -> Iterator[Finding]:
    """normalizeAndValidateSite: the deprecated site.entry-point, and its "workers-site" default."""
    site = config.data.get("site")
    if env != TOP or not isinstance(site, dict):
        return
    if "entry-point" in site:
        yield _finding(config, "warning", "deprecated-field", ("site", "entry-point"),
                       'Deprecation: "site.entry-point": delete it, then add the top level "main" field', env, field="site.entry-point")
    elif not data.get("main"):
        yield _finding(config, "warning", "site-entry-point-default", ("site",),
                       'Because [site] is defined and "main" is not, wrangler defaults to the deprecated "workers-site" '
                       'entry point; add the top level "main" field', env)


def _r2_names(config: Config, env: str, data: dict[str, Any], where: dict[str, Key]) -> Iterator[Finding]:
    buckets = data.get("r2_buckets")
    for index, item in enumerate(buckets if isinstance(buckets, list) else []):
        name = item.get("bucket_name") if isinstance(item, dict) else None
        if isinstance(name, str) and not R2_NAME.match(name):
            yield _finding(config, "error", "invalid-r2-bucket-name", (*where.get("r2_buckets", ("r2_buckets",)), index, "bucket_name"),
                           f'r2_buckets[{index}].bucket_name {_js(name)} is not a valid R2 bucket name: 3-63 lowercase letters, '
                           "digits and hyphens, starting and ending with a letter or digit", env)


def binding_names(field: str, value: Any, base: Key = ()) -> list[tuple[str, Key]]:
    """getBindingNames (validation-helpers.ts): the names a binding field declares, as wrangler reads them,
    each with the key it is written at."""
    if field == "queues":
        value, base = (value.get("producers"), (*base, "producers")) if isinstance(value, dict) else (None, base)
    if isinstance(value, dict):
        bindings = value.get("bindings")
        if isinstance(bindings, list) and all(isinstance(b, dict) and isinstance(b.get("name"), str) for b in bindings):
            return [(b["name"], (*base, "bindings", i, "name")) for i, b in enumerate(bindings)]
        if value.get("binding") is not None:
            return [(str(value["binding"]), (*base, "binding"))]
        return [(k, (*base, k)) for k, v in value.items() if v is not None]
    if isinstance(value, list) and all(isinstance(v, dict) and isinstance(v.get("binding"), str) for v in value):
        return [(v["binding"], (*base, i, "binding")) for i, v in enumerate(value)]
    return []


def _unique_names(config: Config, env: str, data: dict[str, Any], where: dict[str, Key]) -> Iterator[Finding]:
    """validateBindingsHaveUniqueNames: one name, one binding, within a kind and across kinds (reported where
    the name is bound a second time)."""
    seen: dict[str, list[tuple[str, Key]]] = {}
    for field, friendly in FRIENDLY.items():
        top_only = field in TOP_LEVEL_ONLY
        value = config.data.get(field) if top_only else data.get(field)
        for name, key in binding_names(field, value, (field,) if top_only else where.get(field, (field,))):
            seen.setdefault(name, []).append((friendly, key))
    secrets = data.get("secrets")
    required = secrets.get("required") if isinstance(secrets, dict) else None
    for index, name in enumerate(required if isinstance(required, list) else []):
        seen.setdefault(str(name), []).append(("Secret", (*where.get("secrets", ("secrets",)), "required", index)))
    for name, bound in seen.items():
        if len(bound) < 2:
            continue
        bound.sort(key=lambda entry: config.where(entry[1]))  # in file order: report where it is bound again
        types = [kind for kind, _ in bound]
        distinct = list(dict.fromkeys(types))
        repeated = list(dict.fromkeys(t for i, t in enumerate(types) if types.index(t) != i))
        second = bound[1][1]
        if len(distinct) > 1:
            yield _finding(config, "error", "duplicate-binding-name", second,
                           f"{name} assigned to {_english(distinct)} bindings; binding names must be unique", env, binding=name)
        for kind in repeated:
            again = next(key for i, (k, key) in enumerate(bound) if k == kind and types.index(k) != i)
            yield _finding(config, "error", "duplicate-binding-name", again,
                           f"{name} assigned to multiple {kind} bindings; binding names must be unique", env, binding=name)


def _english(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f"{',' if len(items) > 2 else ''} and {items[-1]}"


def _durable_objects_without_migrations(config: Config, env: str, data: dict[str, Any], where: dict[str, Key]) -> Iterator[Finding]:
    """warnIfDurableObjectsHaveNoMigrations: exported Durable Objects and no migrations at all."""
    durable = data.get("durable_objects")
    bindings = durable.get("bindings") if isinstance(durable, dict) else None
    exported = [b for b in bindings if isinstance(b, dict) and not b.get("script_name")] if isinstance(bindings, list) else []
    migrations = data.get("migrations")
    if exported and not migrations and all(isinstance(b.get("class_name"), str) for b in exported):
        classes = ", ".join(b["class_name"] for b in exported)
        yield _finding(config, "warning", "durable-object-without-migration", where.get("durable_objects", ()),
                       f"durable_objects exported by this Worker ({classes}) have no migrations; add "
                       f'[[migrations]] tag = "v1" with new_sqlite_classes = [{", ".join(_js(b["class_name"]) for b in exported)}]', env)


def not_inherited(config: Config, env: str) -> Iterator[Finding]:
    """notInheritable: a field (or a binding, or a var) at the top level but not in the env."""
    if env == TOP:
        return
    raw, prefix = section(config, env)
    for key in NOT_INHERITED:
        top = config.data.get(key)
        if top is None:
            continue
        if key not in raw:
            yield _finding(config, "warning", "not-inherited", prefix or (),
                           f'"{key}" exists at the top level, but not on "env.{env}"; add "{key}" to "env.{env}" '
                           "(environments do not inherit it)", env, field=key)
            continue
        if key not in PER_BINDING:
            continue
        for name in sorted(set(inherited_names(key, top)) - set(inherited_names(key, raw[key]))):
            yield _finding(config, "warning", "binding-not-inherited", (*prefix, key),
                           f'There is a {key} binding with name "{name}" at the top level, but not on "env.{env}"; '
                           f'add it to "env.{env}.{key}"', env, field=key, binding=name)


def inherited_names(key: str, value: Any) -> list[str]:
    """The names wrangler compares between the top level and an env for a non-inherited field."""
    if key in ("vars", "define") and isinstance(value, dict):
        return list(value)
    if key in ("durable_objects", "unsafe") and isinstance(value, dict):
        value = items(value.get("bindings"))
    if key == "queues" and isinstance(value, dict):
        value = items(value.get("producers"))
    if isinstance(value, list):
        return [str(v.get("binding") or v.get("name")) for v in value if isinstance(v, dict) and (v.get("binding") or v.get("name"))]
    return []

