"""The example Workers carry the names and bindings their runbooks give (tests/runbook_names.py), read from each
example's own wrangler config and migrations; the routes are checked on workerd by each system's e2e module."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from testing.workspace import REPO
from tests.runbook_names import BINDINGS, MANUSCRIPT_SCHEMA


def _bindings(config: dict[str, Any]) -> set[tuple[str, str, str]]:
    found = {("kv", k["binding"], "") for k in config.get("kv_namespaces", [])}
    found |= {("d1", d["binding"], d["database_name"]) for d in config.get("d1_databases", [])}
    found |= {("r2", b["binding"], b["bucket_name"]) for b in config.get("r2_buckets", [])}
    queues = config.get("queues", {})
    found |= {("queue-producer", p["binding"], p["queue"]) for p in queues.get("producers", [])}
    found |= {("queue-consumer", "", c["queue"]) for c in queues.get("consumers", [])}
    found |= {("dead-letter-queue", "", c["dead_letter_queue"]) for c in queues.get("consumers", [])
              if c.get("dead_letter_queue")}
    if "version_metadata" in config:
        found.add(("version_metadata", config["version_metadata"]["binding"], ""))
    return found


@pytest.mark.parametrize("example", sorted(BINDINGS))
def test_each_binding_the_runbook_names_is_in_the_workers_config(example: str) -> None:
    config = tomllib.loads((REPO / "examples" / example / "wrangler.toml").read_text(encoding="utf-8"))
    name, wanted = BINDINGS[example]
    assert config["name"] == name
    assert set(wanted) <= _bindings(config), set(wanted) - _bindings(config)


def test_the_manuscript_schema_has_the_runbooks_tables_and_columns() -> None:
    schema = " ".join(p.read_text(encoding="utf-8") for p in (REPO / "examples/manuscript-worker/migrations").glob("*.sql"))
    assert [word for word in MANUSCRIPT_SCHEMA if word not in schema] == []
