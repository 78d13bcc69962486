"""Assemble the root invoke Collection from the per-area collections."""

from __future__ import annotations

import importlib

from invoke import Collection

# (module, attribute): each module exposes a function returning its Collection.
PARTS: tuple[tuple[str, str], ...] = (
    ("ops.cli.sandbox_tasks", "collection"),
    ("ops.cli.check_tasks", "collection"),
)


def build_namespace() -> Collection:
    ns = Collection()
    for module_name, attr in PARTS:
        module = importlib.import_module(module_name)
        ns.add_collection(getattr(module, attr)())
    return ns
