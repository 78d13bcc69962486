"""`inv sandbox.*` (placeholder until the sandbox lands)."""

from invoke.collection import Collection


def collection() -> Collection:
    return Collection("sandbox")
