"""The built-in action types, each a plain import in its own loader, so the import graph shows every one.

A type's module is imported the first time a spec uses it (an action module may
bring pydantic, httpx or a Cloudflare client with it, and `inv --list` or a plan
needs only a few). A new built-in type is one small module with an ``Action``
subclass, a loader here and its line in ``BUILTIN``. Third parties add types
through the ``cfw_remedy.actions`` entry point group instead (see ``ops.actions``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ops.actions.base import Action

__all__ = ["BUILTIN"]


def _analytics() -> type[Action]:
    from ops.actions.analytics import AnalyticsAction

    return AnalyticsAction


def _binding_check() -> type[Action]:
    from ops.actions.binding_check import BindingCheckAction

    return BindingCheckAction


def _cache_warm() -> type[Action]:
    from ops.actions.cache_warm import CacheWarmAction

    return CacheWarmAction


def _cloudflare() -> type[Action]:
    from ops.actions.cloudflare import CloudflareAction

    return CloudflareAction


def _d1() -> type[Action]:
    from ops.actions.d1 import D1Action

    return D1Action


def _edit() -> type[Action]:
    from ops.actions.edit import EditAction

    return EditAction


def _http() -> type[Action]:
    from ops.actions.http import HttpAction

    return HttpAction


def _http_sample() -> type[Action]:
    from ops.actions.http_sample import HttpSampleAction

    return HttpSampleAction


def _jwt_probe() -> type[Action]:
    from ops.actions.jwt_probe import JwtProbeAction

    return JwtProbeAction


def _ladder() -> type[Action]:
    from ops.actions.ladder import LadderAction

    return LadderAction


def _ladder_plan() -> type[Action]:
    from ops.actions.ladder import LadderPlanAction

    return LadderPlanAction


def _logs() -> type[Action]:
    from ops.actions.logs import LogsAction

    return LogsAction


def _noop() -> type[Action]:
    from ops.actions.noop import NoopAction

    return NoopAction


def _notify() -> type[Action]:
    from ops.actions.notify import NotifyAction

    return NotifyAction


def _provider_order() -> type[Action]:
    from ops.actions.provider_order import ProviderOrderAction

    return ProviderOrderAction


def _r2() -> type[Action]:
    from ops.actions.r2 import R2Action

    return R2Action


def _run() -> type[Action]:
    from ops.actions.run import RunAction

    return RunAction


def _wait_until() -> type[Action]:
    from ops.actions.wait_until import WaitUntilAction

    return WaitUntilAction


def _worker_health() -> type[Action]:
    from ops.actions.worker_health import WorkerHealthAction

    return WorkerHealthAction


def _wrangler() -> type[Action]:
    from ops.actions.wrangler import WranglerAction

    return WranglerAction


BUILTIN: dict[str, Callable[[], type[Action]]] = {
    "analytics": _analytics,
    "binding_check": _binding_check,
    "cache_warm": _cache_warm,
    "cloudflare": _cloudflare,
    "d1": _d1,
    "edit": _edit,
    "http": _http,
    "http_sample": _http_sample,
    "jwt_probe": _jwt_probe,
    "ladder": _ladder,
    "ladder_plan": _ladder_plan,
    "logs": _logs,
    "noop": _noop,
    "notify": _notify,
    "provider_order": _provider_order,
    "r2": _r2,
    "run": _run,
    "wait_until": _wait_until,
    "worker_health": _worker_health,
    "wrangler": _wrangler,
}
