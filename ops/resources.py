"""Folders the tool ships beside its code: the checkout's own, else the installed package's copy.

A checkout (or an editable install) reads ``remediations/`` and ``schemas/`` at the
repo's root; a wheel carries them as ``ops/shipped/<folder>`` (setup.py maps them).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def shipped(folder: str) -> Path:
    checkout = PACKAGE.parent / folder
    return checkout if checkout.is_dir() else PACKAGE / "shipped" / folder
