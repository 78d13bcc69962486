"""`inv check.*` (placeholder until the gates land)."""

from invoke.collection import Collection


def collection() -> Collection:
    return Collection("check")
