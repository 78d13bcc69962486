"""The version is written once, in pyproject.toml; `ops.__version__` reads it (`cfw-remedy --version`: tests/test_program.py)."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

import ops

REPO = Path(__file__).resolve().parents[1]
WRITTEN = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_ops_version_is_the_installed_packages() -> None:
    assert ops.__version__ == version("cfw-remedy") == WRITTEN


def test_no_module_writes_the_version_again() -> None:
    again = [str(path.relative_to(REPO)) for path in sorted((REPO / "ops").rglob("*.py"))
             if f'"{WRITTEN}"' in path.read_text(encoding="utf-8") or f"'{WRITTEN}'" in path.read_text(encoding="utf-8")]
    assert not again


def test_an_unknown_attribute_of_ops_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        ops.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
