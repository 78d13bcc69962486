"""The open registry of action types.

Built-in types are plain imports in ``ops.actions.builtin`` (the import graph
shows each one), each run the first time its type is asked for, so listing
tasks imports no action and a plan only the ones its spec uses. Third parties add types through
the ``cfw_remedy.actions`` entry point group, in their own package's
pyproject.toml::

    [project.entry-points."cfw_remedy.actions"]
    acme_ping = "acme_ops.ping:PingAction"   # an ops.actions.base.Action subclass whose name is "acme_ping"

An entry point that cannot be loaded, is not an ``Action`` subclass, or takes a
built-in type's name is an error naming the distribution and what to do.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from ops.errors import InputError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from ops.actions.base import Action

__all__ = ["ENTRY_POINT_GROUP", "get", "known_names"]

ENTRY_POINT_GROUP = "cfw_remedy.actions"


@lru_cache(maxsize=1)
def _plugins() -> dict[str, EntryPoint]:
    """The entry points of the group, by name; read only when a name is not a built-in type's."""
    from ops.actions.builtin import BUILTIN

    found: dict[str, EntryPoint] = {}
    for entry in _entry_points():
        if entry.name in BUILTIN:
            raise InputError(f"{_origin(entry)}: the entry point {entry.name!r} in {ENTRY_POINT_GROUP} takes the name "
                             "of a built-in action type; rename it")
        found[entry.name] = entry
    return found


def _entry_points() -> list[EntryPoint]:
    from importlib.metadata import entry_points

    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)


def _load(entry: EntryPoint) -> type[Action]:
    from ops.actions.base import Action

    try:
        loaded = entry.load()
    except Exception as exc:  # a third party's import error is reported, never a traceback
        raise InputError(f"{_origin(entry)}: the action type {entry.name!r} ({entry.value}) failed to load: "
                         f"{type(exc).__name__}: {exc}; fix or uninstall the package") from None
    if not (isinstance(loaded, type) and issubclass(loaded, Action)):
        raise InputError(f"{_origin(entry)}: {entry.value} is not an ops.actions.base.Action subclass")
    if loaded.name != entry.name:
        raise InputError(f"{_origin(entry)}: the entry point {entry.name!r} loads an action named {loaded.name!r}; "
                         "give both the same name")
    return loaded


def _origin(entry: EntryPoint) -> str:
    dist = getattr(entry, "dist", None)
    return f"package {dist.name}" if dist is not None else f"entry point {entry.name}"


def known_names() -> list[str]:
    from ops.actions.builtin import BUILTIN

    return sorted({*BUILTIN, *_plugins()})


@lru_cache(maxsize=None)
def get(name: str) -> Action | None:
    """An instance of the action type ``name``; its module is imported now, the first time it is asked for."""
    from ops.actions.builtin import BUILTIN

    loader = BUILTIN.get(name)
    if loader is not None:
        return loader()()
    entry = _plugins().get(name)
    return _load(entry)() if entry is not None else None
