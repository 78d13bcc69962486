"""The built-in action types: one plain import each, so the import graph shows every one.

A new built-in type is one small module with an ``Action`` subclass, imported
here and listed in ``BUILTIN``. Third parties add types through the
``cfw_remedy.actions`` entry point group instead (see ``ops.actions``).
"""

from __future__ import annotations

from ops.actions.base import Action
from ops.actions.analytics import AnalyticsAction
from ops.actions.binding_check import BindingCheckAction
from ops.actions.cache_warm import CacheWarmAction
from ops.actions.cloudflare import CloudflareAction
from ops.actions.d1 import D1Action
from ops.actions.edit import EditAction
from ops.actions.http import HttpAction
from ops.actions.http_sample import HttpSampleAction
from ops.actions.jwt_probe import JwtProbeAction
from ops.actions.noop import NoopAction
from ops.actions.notify import NotifyAction
from ops.actions.provider_order import ProviderOrderAction
from ops.actions.r2 import R2Action
from ops.actions.run import RunAction
from ops.actions.wait_until import WaitUntilAction
from ops.actions.worker_health import WorkerHealthAction
from ops.actions.wrangler import WranglerAction

__all__ = ["BUILTIN"]

BUILTIN: tuple[type[Action], ...] = (
    AnalyticsAction,
    BindingCheckAction,
    CacheWarmAction,
    CloudflareAction,
    D1Action,
    EditAction,
    HttpAction,
    HttpSampleAction,
    JwtProbeAction,
    NoopAction,
    NotifyAction,
    ProviderOrderAction,
    R2Action,
    RunAction,
    WaitUntilAction,
    WorkerHealthAction,
    WranglerAction,
)
