"""What a Worker's wrangler config names for one environment: the queues it consumes (and their dead-letter
queues), the queues it produces to, its D1 databases, KV namespaces, R2 buckets and required secrets.

A remediation's settings come from here rather than from the example Worker a spec was
first written for (``ops.engine.config_params``; the sandbox writes them into the
``sandbox-own`` target). Bindings are not inherited by an environment, so each kind is
the env's own (``ops.documents.wrangler_config.effective``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.documents.config import Config, load_config
from ops.documents.wrangler_config import TOP, effective, items, queues_of

__all__ = ["KINDS", "WorkerResources", "read_resources"]

# The kinds of resource a param may name (a spec's `config:`), each with how a user reads it.
KINDS = {
    "queue": "queue it consumes (queues.consumers)",
    "dead-letter-queue": "dead-letter queue of that consumer (queues.consumers[].dead_letter_queue)",
    "d1-database": "D1 database (d1_databases: binding, database_name or database_id)",
    "kv-namespace": "KV namespace (kv_namespaces: binding or id)",
    "r2-bucket": "R2 bucket (r2_buckets: binding or bucket_name)",
    "secret": "secret (secrets.required)",
}


@dataclass(frozen=True)
class WorkerResources:
    """The resources one env of one wrangler config names."""

    path: Path
    env: str                                     # "" for the top level
    consumers: dict[str, str]                    # queue -> its dead-letter queue ("" for none)
    producers: tuple[str, ...]
    d1: tuple[tuple[str, ...], ...]              # (binding, database_name, database_id) of each database
    kv: tuple[tuple[str, ...], ...]              # (binding, id)
    r2: tuple[tuple[str, ...], ...]              # (binding, bucket_name)
    secrets: tuple[str, ...] | None              # secrets.required; None when the config declares no `secrets`

    @property
    def where(self) -> str:
        """The config and the env, as a user finds them: ``wrangler.toml [env.staging]``."""
        return f"{self.path} " + (f"[env.{self.env}]" if self.env else "(top level)")

    def names(self, kind: str) -> list[str] | None:
        """Every name a value of ``kind`` may take here (the first of each resource is its canonical name);
        None when the config cannot tell (it declares no secrets)."""
        if kind == "queue":
            return list(self.consumers)
        if kind == "secret":
            return None if self.secrets is None else list(self.secrets)
        return [name for row in self._rows(kind) for name in row if name]

    def resources(self, kind: str) -> list[str]:
        """One name a resource of ``kind`` (its binding where it has one), for defaults and messages."""
        if kind in ("queue", "secret"):
            return self.names(kind) or []
        return [next((n for n in row if n), "") for row in self._rows(kind)]

    def _rows(self, kind: str) -> tuple[tuple[str, ...], ...]:
        return {"d1-database": self.d1, "kv-namespace": self.kv, "r2-bucket": self.r2}.get(kind, ())


def read_resources(path: Path, env: str = "", config: Config | None = None) -> WorkerResources:
    """The resources ``env`` ("" for the top level) of the config at ``path`` names."""
    data = effective(config or load_config(path), env or TOP).data
    queues = queues_of(data)
    consumers = {str(c["queue"]): str(c.get("dead_letter_queue") or "")
                 for c in items(queues.get("consumers")) if isinstance(c, dict) and c.get("queue")}
    producers = tuple(str(p["queue"]) for p in items(queues.get("producers")) if isinstance(p, dict) and p.get("queue"))
    secrets = data.get("secrets")
    required = (tuple(str(n) for n in items(secrets.get("required")) if isinstance(n, str))
                if isinstance(secrets, dict) else None)
    return WorkerResources(path, env if env != TOP else "", consumers, producers,
                           _rows(data, "d1_databases", ("binding", "database_name", "database_id")),
                           _rows(data, "kv_namespaces", ("binding", "id")),
                           _rows(data, "r2_buckets", ("binding", "bucket_name")), required)


def _rows(data: dict[str, Any], field: str, keys: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(str(item.get(k) or "") for k in keys) for item in items(data.get(field)) if isinstance(item, dict))
