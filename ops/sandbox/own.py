"""The team's own Worker in the sandbox: read from its repository's wrangler config, as wrangler reads it.

Run in a Worker's repository, `sandbox.up` rehearses that Worker instead of this
repo's examples: the config is the one wrangler would use (``ops.documents.wrangler_config.find_config``),
the env the one asked for (``--env``, a named target's, else ``staging`` when the
config has it, else the top level), the deployed name the one wrangler computes
for it, the secrets those of ``.dev.vars.<env>`` or ``.dev.vars`` (as `wrangler dev`
reads them) under a named target's ``env`` table, and the emulator is seeded with
the KV namespaces, queues, D1 databases and R2 buckets the env binds, so that the
real `wrangler deploy` finds them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ops.errors import InputError
from ops.documents.config import Config, load_config
from ops.documents.worker_resources import WorkerResources, read_resources
from ops.documents.wrangler_config import TOP, effective, envs_of, find_config, items
from ops.sandbox.constants import WorkerSpec

if TYPE_CHECKING:
    from ops.targets import HealthContract, Target

KEY = "own"
TARGET = "sandbox-own"
DEFAULT_ENV = "staging"
CREATED = "2026-01-01T00:00:00Z"

# dotenv 16's LINE pattern (motdotla/dotenv lib/main.js), which `wrangler dev` uses to read .dev.vars.
_LINE = re.compile(r"^\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*\"(?:\\\"|[^\"])*\"|\s*`(?:\\`|[^`])*`"
                   r"|[^#\r\n]+)?\s*(?:#.*)?$", re.MULTILINE)


def is_checkout(start: Path, repo: Path) -> bool:
    """True when `start` is inside this tool's own checkout, whose sandbox serves the example Workers."""
    return (repo / "examples").is_dir() and start.resolve().is_relative_to(repo)


def own_worker(start: Path, env: str | None = None, *, target: str | None = None) -> WorkerSpec:
    """The Worker of the repository around `start`, as the sandbox serves it."""
    path = find_config(start)
    config = load_config(path)
    named = _target(target) if target else None
    chosen = _env(config, path, env if env is not None else (named.wrangler_environment if named else None))
    health = named.health if named else declared_health(path.parent)
    secrets = {**dev_vars(path.parent, chosen), **(named.env if named else {})}
    return WorkerSpec(KEY, deployed_name(config, chosen, path), KEY, TARGET, secrets,
                      health_path=health.path, health_status=health.status, health=_inline(health),
                      source=path.parent, config=path.name, env=chosen,
                      settings=settings(read_resources(path, chosen, config), secrets))


def declared_health(folder: Path) -> HealthContract:
    """The health contract the repository's targets.toml declares: its default target's, or, while the default is
    the sandbox's own target (written in .sandbox/, not here), the first target's that has one; else ``/`` and 200.
    Read as written, not resolved: no account or token is needed, and a Worker whose ``/`` is a static asset is
    rehearsed on a path that reaches its code."""
    from ops.targets import TARGETS_FILE, HealthContract

    file = folder / TARGETS_FILE
    doc = load_config(file, what="targets file").data if file.is_file() else {}
    targets = {k: v for k, v in (doc.get("targets") or {}).items() if isinstance(v, dict)}
    name = doc.get("default")
    if name not in targets:
        name = next((k for k, v in targets.items() if "health" in v), None)
    raw = targets.get(name) if isinstance(name, str) else None
    return HealthContract.parse(file, str(name), raw.get("health") if raw else None)


def _inline(health: HealthContract) -> str:
    """The contract's path and status as the sandbox-own target's ``health`` table ("" for the default)."""
    if (health.path, health.status) == ("/", 200):
        return ""
    return f"{{ path = {json.dumps(health.path)}, status = {health.status} }}"


def settings(resources: WorkerResources, secrets: dict[str, str]) -> str:
    """The `sandbox-own` target's settings from what the config names for the env: a comment that lists it, and the
    params it settles (ops.engine.config_params settles them again at each run, and refuses a name it lacks)."""
    consumers = ", ".join(f"{q} (dead-letter queue {d or 'none'})" for q, d in resources.consumers.items()) or "none"
    lines = [f"# From {resources.where}: queues consumed: {consumers}; produced to: "
             f"{', '.join(resources.producers) or 'none'}",
             f"# D1: {', '.join(resources.resources('d1-database')) or 'none'}; KV: "
             f"{', '.join(resources.resources('kv-namespace')) or 'none'}; R2: "
             f"{', '.join(resources.resources('r2-bucket')) or 'none'}; secrets.required: "
             f"{', '.join(resources.secrets or ()) or 'none'}; secrets in .dev.vars: {', '.join(sorted(secrets)) or 'none'}"]
    tables: dict[str, dict[str, str]] = {}
    if len(resources.consumers) == 1:
        [(queue, dlq)] = resources.consumers.items()
        tables["queue-redeploy"] = {"queue": queue, "dead_letter_queue": dlq}
    if len(resources.resources("kv-namespace")) == 1:
        tables["cache-warm"] = {"kv_binding": resources.resources("kv-namespace")[0]}
    for name, table in tables.items():
        lines.append(f"[targets.{TARGET}.params.{name}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in table.items()]
    return ("\n".join(lines) + "\n").replace("{", "{{").replace("}", "}}")  # a WorkerSpec's settings are a format string


def remembered(home: Path, env: str | None, target: str | None) -> tuple[str | None, str | None]:
    """The env and target `sandbox.up` was given, kept in the sandbox's home for the commands after it."""
    path = home / "own.json"
    if env is None and target is None:
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
            return kept.get("env"), kept.get("target")
        except (OSError, ValueError, AttributeError):
            return None, None
    home.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"env": env, "target": target}), encoding="utf-8")
    return env, target


def deployed_name(config: Config, env: str, path: Path) -> str:
    """The Worker's name as wrangler computes it for `env` (ops.documents.wrangler_config: the env's own
    ``name`` wins; otherwise the top-level name gets ``-<env>``)."""
    name = effective(config, env or TOP).worker_name
    if not name:
        raise InputError(f"{path}:1: the Worker has no name; set name = \"...\" in the config")
    return name


def dev_vars(folder: Path, env: str) -> dict[str, str]:
    """The secrets `wrangler dev` would load: ``.dev.vars.<env>`` if it exists, else ``.dev.vars`` (dev/dev-vars.ts)."""
    for path in ([folder / f".dev.vars.{env}"] if env else []) + [folder / ".dev.vars"]:
        if path.is_file():
            return parse_dotenv(path.read_text(encoding="utf-8"))
    return {}


def parse_dotenv(text: str) -> dict[str, str]:
    """dotenv 16's ``parse``: quotes stripped; in double quotes, ``\\n`` and ``\\r`` become line breaks."""
    found: dict[str, str] = {}
    for match in _LINE.finditer(text.replace("\r\n", "\n")):
        value = (match.group(2) or "").strip()
        quote = value[:1]
        value = re.sub(r"^(['\"`])([\s\S]*)\1$", r"\2", value)
        if quote == '"':
            value = value.replace("\\n", "\n").replace("\\r", "\r")
        found[match.group(1)] = value
    return found


def seed(spec: WorkerSpec) -> dict[str, Any]:
    """What the emulator must hold for this env: its KV namespaces (by id), queues (by name), D1 databases and R2
    buckets, in the emulator's own state shapes (ops/sandbox/emulator: kv.py, queues.py, r2.py, d1.py)."""
    data = _env_data(spec)
    kv = {str(ns["id"]): {"title": str(ns.get("binding", ns["id"])), "keys": {}}
          for ns in items(data.get("kv_namespaces")) if isinstance(ns, dict) and ns.get("id")}
    names = dict.fromkeys(queue_names(data))
    queues = {f"{i + 1:032x}": {"queue_name": name, "created_on": CREATED, "consumers": [], "producers": []}
              for i, name in enumerate(names)}
    d1 = [{"uuid": str(db["database_id"]), "name": str(db.get("database_name") or db["binding"]), "version": "production",
           "created_at": CREATED, "jurisdiction": None}
          for db in items(data.get("d1_databases")) if isinstance(db, dict) and db.get("database_id")]
    r2 = [{"name": str(b["bucket_name"]), "creation_date": CREATED, "location": "WNAM", "storage_class": "Standard",
           "jurisdiction": str(b.get("jurisdiction") or "default")}
          for b in items(data.get("r2_buckets")) if isinstance(b, dict) and b.get("bucket_name")]
    return {"kv": kv, "queues": queues, "d1": d1, "r2": r2}


def queue_names(data: dict[str, Any]) -> list[str]:
    """Every queue the env names: producers', consumers' and their dead-letter queues."""
    queues = _queues(data)
    found = [str(p["queue"]) for p in items(queues.get("producers")) if isinstance(p, dict) and p.get("queue")]
    for consumer in items(queues.get("consumers")):
        if isinstance(consumer, dict):
            found += [str(consumer[k]) for k in ("queue", "dead_letter_queue") if consumer.get(k)]
    return found


def consumer(spec: WorkerSpec) -> dict[str, Any] | None:
    """The Worker's first queue consumer in its env (queue, dead_letter_queue, settings), if any."""
    if spec.source is None:
        return None
    queues = _queues(_env_data(spec))
    return next((dict(c) for c in items(queues.get("consumers")) if isinstance(c, dict) and c.get("queue")), None)


def assets_only(config: Path, env: str) -> bool:
    """A Worker of static assets and no code of its own: its config's env has ``assets`` and no ``main``, which
    wrangler deploys as an assets-only Worker (no module in the upload)."""
    data = effective(load_config(config), env or TOP).data
    return not data.get("main") and isinstance(data.get("assets"), dict)


def _queues(data: dict[str, Any]) -> dict[str, Any]:
    queues = data.get("queues")
    return queues if isinstance(queues, dict) else {}


def _env_data(spec: WorkerSpec) -> dict[str, Any]:
    assert spec.source is not None
    data = effective(load_config(spec.source / spec.config), spec.env or TOP).data
    return data


def _env(config: Config, path: Path, asked: str | None) -> str:
    names = envs_of(config)[1:]
    if asked is None:
        return DEFAULT_ENV if DEFAULT_ENV in names else ""
    if asked and asked not in names:
        raise InputError(f"{path}: no [env.{asked}] in the config (it has: {', '.join(names) or 'none'}); "
                         "pick one with --env, or --env \"\" for the top level")
    return asked


def _target(name: str) -> Target:
    from ops.targets import load_target

    return load_target(name)
