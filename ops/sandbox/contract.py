"""The seam between the control-plane emulator and the data plane.

When the emulator's active deployment of a script changes (deploy, rollback,
secret put, queue consumer attached or detached), it builds a ``LiveVersion``
and calls ``ops.sandbox.live.materialize(live, live_dir)``, which rewrites the
files that the running ``wrangler dev`` serves, so the Worker on workerd
follows the control plane.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Module:
    name: str            # as uploaded, e.g. "index.js"
    content_type: str    # e.g. "application/javascript+module", "application/wasm", "text/plain"
    content: bytes


@dataclass(frozen=True)
class QueueConsumer:
    queue_name: str
    settings: dict[str, Any] = field(default_factory=dict)
    dead_letter_queue: str | None = None


@dataclass(frozen=True)
class LiveVersion:
    script: str
    version_id: str
    deployment_id: str
    main_module: str
    modules: tuple[Module, ...]
    # Bindings exactly as in the upload metadata, e.g.
    # {"type": "kv_namespace", "name": "CACHE", "namespace_id": "…"},
    # {"type": "plain_text", "name": "PROVIDER_ORDER", "text": "…"},
    # {"type": "queue", "name": "ENRICH_QUEUE", "queue_name": "…"}.
    # Secret bindings ({"type": "secret_text", ...}) are not here: see ``secrets``.
    bindings: tuple[dict[str, Any], ...]
    secrets: dict[str, str] = field(repr=False)
    compatibility_date: str | None = None
    compatibility_flags: tuple[str, ...] = ()
    queue_consumers: tuple[QueueConsumer, ...] = ()
    tag: str = ""         # the version's "workers/tag" annotation (version_metadata.tag)
    created_on: str = ""  # when the version was created (version_metadata.timestamp)
    # Every Durable Object migration step applied up to this version, each with a tag:
    # {"tag": "v1", "new_sqlite_classes": ["Counter"]} (wrangler's `migrations` entries).
    migrations: tuple[dict[str, Any], ...] = ()
    # Static assets: the files by path ("index.html", "img/a.png") and the upload's config
    # (html_handling, not_found_handling, run_worker_first, _headers, _redirects); None without assets.
    assets: dict[str, bytes] | None = field(default=None, repr=False)
    assets_config: dict[str, Any] = field(default_factory=dict)
