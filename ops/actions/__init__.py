"""The open registry of action types.

Built-in types are named here and imported only when used, so listing tasks
stays fast. A new type is one small module with an ``Action`` subclass; add it
to ``BUILTIN`` or expose it through the ``cfw_remedy.actions`` entry point
group (``name = "package.module:Class"``).
"""

from __future__ import annotations

import importlib
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ops.actions.base import Action

__all__ = ["BUILTIN", "get", "known_names"]

BUILTIN: dict[str, str] = {
    "http": "ops.actions.http:HttpAction",
    "wrangler": "ops.actions.wrangler:WranglerAction",
    "run": "ops.actions.run:RunAction",
    "wait_until": "ops.actions.wait_until:WaitUntilAction",
    "edit": "ops.actions.edit:EditAction",
    "cloudflare": "ops.actions.cloudflare:CloudflareAction",
    "noop": "ops.actions.noop:NoopAction",
    "http_sample": "ops.actions.http_sample:HttpSampleAction",
    "cache_warm": "ops.actions.cache_warm:CacheWarmAction",
    "provider_order": "ops.actions.provider_order:ProviderOrderAction",
    "binding_check": "ops.actions.binding_check:BindingCheckAction",
    "jwt_probe": "ops.actions.jwt_probe:JwtProbeAction",
    "analytics": "ops.actions.analytics:AnalyticsAction",
    "worker_health": "ops.actions.worker_health:WorkerHealthAction",
    "d1": "ops.actions.d1:D1Action",
    "notify": "ops.actions.notify:NotifyAction",
    "r2": "ops.actions.r2:R2Action",
    "logs": "ops.actions.logs:LogsAction",
}
ENTRY_POINT_GROUP = "cfw_remedy.actions"


@lru_cache(maxsize=1)
def _plugins() -> dict[str, str]:
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def known_names() -> list[str]:
    return sorted({*BUILTIN, *_plugins()})


@lru_cache(maxsize=None)
def get(name: str) -> Action | None:
    ref = BUILTIN.get(name) or _plugins().get(name)
    if ref is None:
        return None
    module_name, _, attr = ref.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    action: Action = cls()
    return action
