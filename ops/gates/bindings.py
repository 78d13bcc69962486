"""The bindings gate: what wrangler's validation rejects or warns about, and more where wrangler is silent.

Pure functions from a loaded config (and, for ``--remote``, one list per
resource kind from the account) to findings. One checker serves the CI gate and
the binding-check remediation.
"""

from __future__ import annotations

from dataclasses import replace

import re
from typing import Any, Callable, Iterator, Protocol

from ops.documents.config import Config, Key
from ops.documents.wrangler_config import TOP as TOP
from ops.documents.wrangler_config import Binding, effective, envs_of, items, queues_of, section
from ops.gates.result import Finding, Result
from ops.gates.schema import SchemaChoice, choose_schema, schema_findings
from ops.gates.suggest import NOUN, suggest
from ops.gates.wrangler_rules import _js, rule_findings

HEX32 = re.compile(r"^[0-9a-f]{32}$")
PLACEHOLDER = re.compile(r"^(|x+|<.*>|\$\{.*\}|your[-_].*|.*placeholder.*|todo|changeme|__.*__)$", re.IGNORECASE)


class ResourceLister(Protocol):
    """One paged list per resource kind (``ClientLister`` gives it over the Cloudflare client)."""

    def kv_namespaces(self) -> list[dict[str, Any]]: ...
    def d1_databases(self) -> list[dict[str, Any]]: ...
    def r2_buckets(self) -> list[dict[str, Any]]: ...
    def queues(self) -> list[dict[str, Any]]: ...
    def durable_objects(self) -> list[dict[str, Any]]: ...
    def worker_bindings(self, script: str) -> list[str] | None: ...  # its binding names; None: no such Worker


def check(config: Config, *, env: str | None = None, all_envs: bool = False, remote: ResourceLister | None = None,
          schema: SchemaChoice | None = None) -> Result:
    """The three layers for the top level and ``env`` (wrangler validates both), or every env."""
    result = Result()
    names = envs_of(config)
    if env is not None and env != TOP and env not in names:
        result.findings.append(_finding(config, "error", "unknown-env", (),
                                        f"no environment {env!r} in the config (it has: {', '.join(names[1:]) or 'none'}); "
                                        "pick one of them with --env", TOP))
        return result
    chosen = names if all_envs else list(dict.fromkeys([TOP, env or TOP]))
    choice = schema or choose_schema(config.path)
    result.notes.append(f"bindings: the verdict follows {choice.note}")
    result.findings.extend(schema_findings(config, choice, chosen))
    for name in chosen:
        result.findings.extend(_env_findings(config, name, choice.version))
    if all_envs or len(names) > 1:
        result.findings.extend(_cross_env_findings(config))
    if remote is not None:
        result.findings.extend(remote_findings(config, chosen, remote))
        result.findings.extend(required_secret_findings(config, chosen, remote))
    result.checked.append(str(config.path))
    return _dedupe(result)


def _dedupe(result: Result) -> Result:
    seen: set[tuple[str, str, int, str]] = set()
    unique = []
    for f in result.findings:
        key = (f.code, f.message, f.line, f.env)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    result.findings = sorted(unique, key=lambda f: (f.line, f.col, f.code))
    return result


def _finding(config: Config, severity: str, code: str, key: Key, message: str, env: str, **detail: Any) -> Finding:
    line, col = config.where(key)
    return Finding(severity, code, message, str(config.path), line, col, env, {"layer": "ours", **detail})


def _env_findings(config: Config, env: str, version: str) -> Iterator[Finding]:
    resolved = effective(config, env)
    data, where = resolved.data, resolved.where
    yield from rule_findings(config, env, data, where, version)
    for binding in resolved.bindings():
        yield from _id_rules(config, binding)
    yield from _durable_object_rules(config, env, data, where)
    yield from _queue_rules(config, env, data, where)


def _id_rules(config: Config, binding: Binding) -> Iterator[Finding]:
    if binding.kind not in ("kv", "d1"):
        return
    if PLACEHOLDER.match(binding.resource.strip()):
        yield _finding(config, "error", "placeholder-id", binding.key,
                       f'{binding.kind.upper()} binding "{binding.name}" has the placeholder id {_js(binding.resource)}; '
                       "put the real id (wrangler kv namespace list / wrangler d1 list)", binding.env, binding=binding.name)
    elif binding.kind == "kv" and not HEX32.match(binding.resource):
        yield _finding(config, "error", "kv-id-not-hex", binding.key,
                       f'KV binding "{binding.name}" id {_js(binding.resource)} is not 32 hex digits; '
                       "copy the id from wrangler kv namespace list", binding.env, binding=binding.name)


def _durable_object_rules(config: Config, env: str, data: dict[str, Any], where: dict[str, Key]) -> Iterator[Finding]:
    durable = data.get("durable_objects")
    bound = {b.get("class_name") for b in items(durable.get("bindings")) if isinstance(b, dict) and not b.get("script_name")} if isinstance(durable, dict) else set()
    migrated: set[str] = set()
    for migration in items(data.get("migrations")):
        if isinstance(migration, dict):
            for field in ("new_classes", "new_sqlite_classes"):
                migrated.update(c for c in items(migration.get(field)) if isinstance(c, str))
            for rename in items(migration.get("renamed_classes")):
                if isinstance(rename, dict) and rename.get("to"):
                    migrated.add(rename["to"])
            for gone in items(migration.get("deleted_classes")):
                migrated.discard(gone)
    if not data.get("migrations"):
        return  # no migrations at all: wrangler's own durable-object-without-migration warning (layer 2)
    for cls in sorted(c for c in bound - migrated if isinstance(c, str) and c):
        yield _finding(config, "warning", "durable-object-class-not-migrated", where.get("durable_objects", ()),
                       f'Durable Object class "{cls}" has no migration; add it to a [[migrations]] new_sqlite_classes (or new_classes)', env)
    for cls in sorted(migrated - bound):
        if bound or durable is not None:
            yield _finding(config, "warning", "migration-class-unused", where.get("migrations", ()),
                           f'migrations create class "{cls}" but no durable_objects binding uses it; bind it or delete it in a migration', env)


def _queue_rules(config: Config, env: str, data: dict[str, Any], where: dict[str, Key]) -> Iterator[Finding]:
    consumers = {c.get("queue") for c in _all_consumers(config) if isinstance(c, dict)}
    declared = {p.get("queue") for p in _all_producers(config) if isinstance(p, dict)} | consumers
    base = where.get("queues", ("queues",))
    for index, producer in enumerate(items(queues_of(data).get("producers"))):
        if isinstance(producer, dict) and producer.get("queue") not in consumers:
            yield _finding(config, "warning", "queue-without-consumer", (*base, "producers", index),
                           f'queue "{producer.get("queue")}" has a producer but no consumer anywhere in this config; '
                           "make sure another Worker consumes it", env)
    for index, consumer in enumerate(items(queues_of(data).get("consumers"))):
        dlq = consumer.get("dead_letter_queue") if isinstance(consumer, dict) else None
        if dlq and dlq not in declared:
            yield _finding(config, "warning", "dead-letter-queue-undeclared", (*base, "consumers", index, "dead_letter_queue"),
                           f'dead_letter_queue "{dlq}" is never declared in this config; create it (wrangler queues create {dlq}) '
                           "and consume it, or failed messages pile up unseen", env)


def _all_consumers(config: Config) -> list[Any]:
    return [c for env in envs_of(config) for c in items(queues_of(section(config, env)[0]).get("consumers"))]


def _all_producers(config: Config) -> list[Any]:
    return [p for env in envs_of(config) for p in items(queues_of(section(config, env)[0]).get("producers"))]


def _cross_env_findings(config: Config) -> Iterator[Finding]:
    owners: dict[tuple[str, str], list[Binding]] = {}
    for env in envs_of(config):
        for binding in effective(config, env).bindings():
            if binding.kind in ("kv", "d1") and binding.resource and not PLACEHOLDER.match(binding.resource):
                owners.setdefault((binding.kind, binding.resource), []).append(binding)
    for (kind, resource), bound in owners.items():
        names = {b.name for b in bound}
        if len(names) > 1:
            first = bound[-1]
            yield _finding(config, "warning", "id-bound-under-different-names", first.key,
                           f"{kind.upper()} id {resource} is bound as {', '.join(sorted(names))} across envs; "
                           "use one binding name, or separate resources", first.env)
        envs = {b.env for b in bound}
        if {"production", "staging"} <= envs:
            staging = next(b for b in bound if b.env == "staging")
            yield _finding(config, "warning", "shared-prod-staging-resource", staging.key,
                           f"production and staging share {kind.upper()} {resource} ({staging.name}); staging writes will "
                           "reach production data: give staging its own", "staging")


def remote_findings(config: Config, envs: list[str], remote: ResourceLister) -> Iterator[Finding]:
    """Every referenced resource must exist: one list call per kind, never one per binding."""
    wanted = [b for env in envs for b in effective(config, env).bindings()]
    kinds = {b.kind for b in wanted}
    lists: dict[str, tuple[set[str], dict[str, str]]] = {}
    loaders: dict[str, Callable[[], list[dict[str, Any]]]] = {
        "kv": remote.kv_namespaces, "d1": remote.d1_databases, "r2": remote.r2_buckets,
        "queue": remote.queues, "durable-object": remote.durable_objects}
    fields = {"kv": ("id", "title"), "d1": ("uuid", "name"), "r2": ("name", "name"), "queue": ("queue_name", "queue_name"),
              "durable-object": ("class", "name")}
    for kind in sorted(kinds):
        items = loaders[kind]()
        ident, label = fields[kind]
        lists[kind] = ({_remote_id(kind, i, ident) for i in items}, {str(i.get(label)): str(i.get(ident)) for i in items})
    top_name = config.data.get("name") if isinstance(config.data.get("name"), str) else None
    for binding in wanted:
        if binding.kind == "durable-object" or PLACEHOLDER.match(binding.resource):
            continue
        ids, by_label = lists[binding.kind]
        if _bound_id(binding) in ids:
            continue
        guess = suggest(binding, by_label, effective(config, binding.env).worker_name, top_name)
        if binding.kind == "r2" and binding.resource in by_label:
            elsewhere = sorted(i.split("/")[0] if "/" in i else "default" for i in ids
                               if i.rsplit("/", 1)[-1] == binding.resource)
            guess = replace(guess, hint=f'; a bucket "{binding.resource}" exists in the {", ".join(elsewhere)} '
                                        "jurisdiction: set the binding's jurisdiction to match, or create the bucket "
                                        "where it is bound")
        yield _finding(config, "error", f"missing-{binding.kind}", binding.key,
                       f'{_noun(binding.kind)} {binding.resource}{_in_jurisdiction(binding)} bound as "{binding.name}" '
                       "does not exist in the account"
                       f"{guess.hint}", binding.env, binding=binding.name, kind=binding.kind, missing=binding.resource,
                       location=list(binding.key), suggested=guess.id, suggested_title=guess.title,
                       candidates=list(guess.candidates))


def _remote_id(kind: str, item: dict[str, Any], ident: str) -> str:
    """An R2 bucket is one jurisdiction's: ``eu/name`` is not ``name`` (list_r2 tags each with its own)."""
    if kind == "r2" and item.get("jurisdiction") not in (None, "", "default"):
        return f"{item['jurisdiction']}/{item.get(ident)}"
    return str(item.get(ident))


def _bound_id(binding: Binding) -> str:
    return f"{binding.jurisdiction}/{binding.resource}" if binding.jurisdiction else binding.resource


def _in_jurisdiction(binding: Binding) -> str:
    return f" (jurisdiction {binding.jurisdiction})" if binding.jurisdiction else ""


def required_secret_findings(config: Config, envs: list[str], remote: ResourceLister) -> Iterator[Finding]:
    """``secrets.required`` names what the Worker cannot run without. wrangler sends each one that is not already
    a binding of the upload (a var of the same name is) as an ``inherit`` binding, and the API refuses the upload
    while the Worker has no binding of that name to inherit, a secret or a var of its current version ("The
    following required secrets have not been set": workers-sdk packages/deploy-helpers/src/deploy/helpers/
    secrets-validation.ts ``addRequiredSecretsInheritBindings``); for a Worker that does not exist yet, wrangler
    refuses before uploading. One settings read per Worker."""
    for env in envs:
        resolved = effective(config, env)
        data, where = resolved.data, resolved.where
        secrets, plain = data.get("secrets"), data.get("vars")
        required = [n for n in items(secrets.get("required")) if isinstance(n, str)] if isinstance(secrets, dict) else []
        required = [n for n in required if not (isinstance(plain, dict) and n in plain)]
        if not required:
            continue
        script = resolved.worker_name or ""
        have = remote.worker_bindings(script)
        missing = [n for n in required if have is None or n not in have]
        if not missing:
            continue
        why = f"Worker {script} does not exist yet" if have is None else f"Worker {script} lacks them"
        yield _finding(config, "error", "missing-secret", (*where.get("secrets", ("secrets",)), "required"),
                       f"secrets.required names {', '.join(missing)}, and {why}: wrangler deploy would fail "
                       f'("The following required secrets have not been set"); set each first with '
                       f"wrangler secret put NAME{' --env ' + env if env != TOP else ''}", env,
                       missing=missing, script=script)


def _noun(kind: str) -> str:
    return NOUN.get(kind, kind)


class ClientLister:
    """A ``ResourceLister`` over the Cloudflare client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def kv_namespaces(self) -> list[dict[str, Any]]:
        from ops.cloudflare import list_kv_namespaces

        return list_kv_namespaces(self.client)

    def d1_databases(self) -> list[dict[str, Any]]:
        from ops.cloudflare import list_d1

        return list_d1(self.client)

    def r2_buckets(self) -> list[dict[str, Any]]:
        from ops.cloudflare import list_r2

        return list_r2(self.client)

    def queues(self) -> list[dict[str, Any]]:
        from ops.cloudflare import list_queues

        return list_queues(self.client)

    def durable_objects(self) -> list[dict[str, Any]]:
        from ops.cloudflare import list_durable_objects

        return list_durable_objects(self.client)

    def worker_bindings(self, script: str) -> list[str] | None:
        from ops.cloudflare.operations import worker_binding_names

        return worker_binding_names(self.client, script)
