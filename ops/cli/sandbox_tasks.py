"""`inv sandbox.*` (placeholder until the sandbox lands)."""

from invoke import Collection


def collection() -> Collection:
    return Collection("sandbox")
