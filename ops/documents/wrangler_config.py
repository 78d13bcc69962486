"""A wrangler config as wrangler reads it: which file, which environment, what that environment gets.

The rules are wrangler's ``normalizeAndValidateEnvironment`` (workers-sdk
``packages/workers-utils/src/config/validation.ts`` and ``validation-helpers.ts``;
earlier ``packages/wrangler/src/config/``):

- an **inheritable** field (``main``, ``compatibility_date``, ``compatibility_flags``,
  ``routes``, ``triggers``, ``migrations``, ``placement``, ``observability``, …) is the
  env's own value, else the top level's (``inheritable()``: ``rawEnv[field] ??
  transformFn(topLevelEnv[field]) ?? default``);
- ``name`` is inheritable with ``appendEnvName``: an env that sets no name is deployed
  as the Worker ``<name>-<env>``;
- a **not inheritable** field (``vars``, ``define``, every binding: ``kv_namespaces``,
  ``d1_databases``, ``r2_buckets``, ``queues``, ``durable_objects``, ``services``, …) is
  the env's own value or nothing (``notInheritable()``: ``rawEnv[field] ?? default``),
  whatever the top level says;
- a field that is not an environment field at all (``dev``, ``site``, ``keep_vars``, …)
  is read from the top level for every env;
- ``--env X`` where the config defines no environments at all uses the top level as
  it is (bindings included) under the name ``<name>-X``; where it defines others, X
  is an error.

The gates and the actions (binding_check, kv_fill, cache_warm, provider_order, edit,
d1) read configs through here, so a rule lives once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.documents.config import Config, Key, load_config
from ops.documents.problem import DocumentError, Problem, json_path

__all__ = ["NAMES", "NOT_INHERITED", "TOP", "Binding", "Effective", "effective", "envs_of", "find_config",
           "load_config", "section"]

TOP = "<top>"
NAMES = ("wrangler.json", "wrangler.jsonc", "wrangler.toml")  # wrangler's own order (config-helpers.ts)

# The notInheritable(...) fields of normalizeAndValidateEnvironment (validation.ts, wrangler 4.86; "agent_memory",
# "connect" and "websearch" were added later, by workers-sdk main at f830836)
NOT_INHERITED = (
    "agent_memory", "ai", "ai_search", "ai_search_namespaces", "analytics_engine_datasets", "artifacts", "browser",
    "cloudchamber", "connect", "containers", "d1_databases", "define", "dispatch_namespaces", "durable_objects",
    "flagship", "hyperdrive", "images", "kv_namespaces", "media", "mtls_certificates", "pipelines", "queues",
    "r2_buckets", "ratelimits", "secrets", "secrets_store_secrets", "send_email", "services", "stream",
    "streaming_tail_consumers", "tail_consumers", "unsafe", "unsafe_hello_world", "vars", "vectorize",
    "version_metadata", "vpc_networks", "vpc_services", "websearch", "worker_loaders", "workflows",
)

# (config field, binding kind, the field that names the resource) for the bindings that point at an account resource
_RESOURCES = (("kv_namespaces", "kv", "id"), ("d1_databases", "d1", "database_id"), ("r2_buckets", "r2", "bucket_name"))


@dataclass(frozen=True)
class Binding:
    kind: str            # kv | d1 | r2 | queue | durable-object
    name: str
    resource: str        # the id or name it points at
    key: Key             # where it is written
    env: str
    jurisdiction: str = ""  # an R2 bucket's (eu, fedramp); "" for the default one


def find_config(start: Path | None = None) -> Path:
    """The config wrangler would use: wrangler.json, then .jsonc, then .toml, from ``start`` upward."""
    from ops.errors import ConfigError

    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for name in NAMES:
            if (folder / name).is_file():
                return folder / name
    raise ConfigError(f"{here}: no wrangler.json, wrangler.jsonc or wrangler.toml here or above; pass --config PATH")


def envs_of(config: Config) -> list[str]:
    """TOP and every ``[env.X]`` the config defines."""
    env = config.data.get("env")
    return [TOP, *sorted(env)] if isinstance(env, dict) else [TOP]


def section(config: Config, env: str) -> tuple[dict[str, Any], Key]:
    """What the config writes for ``env`` itself (nothing inherited), and where."""
    if env == TOP:
        return config.data, ()
    envs = config.data.get("env")
    raw = envs.get(env) if isinstance(envs, dict) else None
    return (raw if isinstance(raw, dict) else {}), ("env", env)


@dataclass(frozen=True)
class Effective:
    """The config wrangler uses for one environment."""

    config: Config
    env: str                   # TOP, or the name given to --env
    data: dict[str, Any]       # every field as wrangler resolves it for this env (``name`` included)
    where: dict[str, Key]      # where each field of ``data`` is written
    defined: bool              # the env has its own [env.X] (TOP: always)

    @property
    def worker_name(self) -> str | None:
        """The Worker wrangler deploys this env as: the env's ``name``, else ``<name>-<env>``."""
        name = self.data.get("name")
        return name if isinstance(name, str) and name else None

    @property
    def prefix(self) -> Key:
        """Where this env's own fields are (to be) written: the top level, or ``env.<name>``."""
        return ("env", self.env) if self.defined and self.env != TOP else ()

    def vars(self) -> dict[str, Any]:
        found = self.data.get("vars")
        return dict(found) if isinstance(found, dict) else {}

    def bindings(self) -> list[Binding]:
        """The env's bindings to account resources, each with where it is written."""
        data, where, env = self.data, self.where, self.env
        found: list[Binding] = []
        for field, kind, ref in _RESOURCES:
            for index, item in enumerate(items(data.get(field))):
                if isinstance(item, dict) and ref in item:
                    found.append(Binding(kind, str(item.get("binding", "")), str(item[ref]),
                                         (*where.get(field, (field,)), index, ref), env,
                                         str(item.get("jurisdiction") or "") if kind == "r2" else ""))
        queues = data.get("queues")
        for index, item in enumerate(items(queues.get("producers")) if isinstance(queues, dict) else []):
            if isinstance(item, dict):
                found.append(Binding("queue", str(item.get("binding", "")), str(item.get("queue", "")),
                                     (*where.get("queues", ("queues",)), "producers", index, "queue"), env))
        durable = data.get("durable_objects")
        for index, item in enumerate(items(durable.get("bindings")) if isinstance(durable, dict) else []):
            if isinstance(item, dict):
                found.append(Binding("durable-object", str(item.get("name", "")), str(item.get("class_name", "")),
                                     (*where.get("durable_objects", ("durable_objects",)), "bindings", index), env))
        return found

    def kv_namespace(self, binding: str) -> str:
        """The KV namespace id bound as ``binding``; a located error when there is none."""
        for found in self.bindings():
            if found.kind == "kv" and found.name == binding and found.resource:
                return found.resource
        bound = sorted(b.name for b in self.bindings() if b.kind == "kv")
        key = self.where.get("kv_namespaces", self.prefix)
        scope = f"env {self.env!r}" if self.env != TOP else "the top level"
        raise self.error(key, f"no KV namespace bound as {binding!r} in {scope} (bound: {', '.join(bound) or 'none'}); "
                              "check the binding name" + (_NOT_INHERITED_HINT if self.env != TOP and not bound else ""))

    def error(self, key: Key, message: str) -> DocumentError:
        line, col = self.config.where(key)
        return DocumentError(Problem(str(self.config.path), line, col, json_path(key), message))


_NOT_INHERITED_HINT = " (an environment does not inherit the top level's kv_namespaces: bind it under [env.<name>])"


def effective(config: Config, env: str | None) -> Effective:
    """What wrangler uses for ``env`` (None or "": the top level); an env the config does not define is an error
    when it defines others, as in wrangler."""
    top = config.data
    if not env or env == TOP:
        return Effective(config, TOP, top, {k: (k,) for k in top}, True)
    names = envs_of(config)[1:]
    if env not in names:
        if names:
            line, col = config.where(("env",))
            raise DocumentError(Problem(str(config.path), line, col, "$.env",
                                        f"no environment {env!r} in the wrangler config (it has: {', '.join(names)}); "
                                        "name one of them, or add [env." + env + "]"))
        data = {k: v for k, v in top.items() if k != "env"}
        data["name"] = _env_name(top.get("name"), env)
        return Effective(config, env, data, {k: (k,) for k in top}, False)
    raw, prefix = section(config, env)
    data = {k: v for k, v in top.items() if k != "env" and k not in NOT_INHERITED}
    where: dict[str, Key] = {k: (k,) for k in data}
    data["name"] = _env_name(top.get("name"), env)
    for k, v in raw.items():
        if v is not None:  # inheritable(): rawEnv[field] ?? topLevelEnv[field]
            data[k] = v
            where[k] = (*prefix, k)
    return Effective(config, env, data, where, True)


def _env_name(top: Any, env: str) -> Any:
    """appendEnvName(env): ``<name>-<env>``, or nothing when the top level has no name."""
    return f"{top}-{env}" if isinstance(top, str) and top else None


def items(value: Any) -> list[Any]:
    """``value`` when it is a list, else nothing: configs nobody has seen put anything anywhere."""
    return value if isinstance(value, list) else []


def queues_of(data: dict[str, Any]) -> dict[str, Any]:
    """The ``queues`` table of a resolved config, or an empty one."""
    queues = data.get("queues")
    return queues if isinstance(queues, dict) else {}
