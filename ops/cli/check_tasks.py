"""`inv check.*` (placeholder until the gates land)."""

from invoke import Collection


def collection() -> Collection:
    return Collection("check")
