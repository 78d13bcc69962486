"""Where the validated-spec cache lives: beside a repo's specs, never inside an installed package."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.engine.catalog import _Cache
from ops.resources import PACKAGE


def test_the_shipped_specs_of_an_installed_package_cache_in_the_users_cache(tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPS_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    cache = _Cache(PACKAGE / "shipped" / "remediations")
    assert cache.file.parent == tmp_path / "xdg" / "cfw-remedy"


def test_a_repos_own_specs_cache_beside_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPS_CACHE_DIR", raising=False)
    cache = _Cache(tmp_path / "remediations")
    assert cache.file.parent == tmp_path / ".cache" / "cfw-remedy"


def test_a_spec_is_read_once_to_digest_and_compile_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    import sys

    from ops.engine.catalog import discover

    folder = tmp_path / "remediations"
    folder.mkdir()
    shutil.copy(Path(__file__).parent / "specs" / "poke.yaml", folder / "poke.yaml")
    monkeypatch.setenv("OPS_CACHE_DIR", str(tmp_path / "cache"))
    opened: list[str] = []
    watching = [str(folder / "poke.yaml")]
    sys.addaudithook(lambda event, args: opened.append(str(args[0])) if event == "open" and watching
                     and str(args[0]) == watching[0] else None)
    try:
        [entry] = discover(folder)
    finally:
        watching.clear()  # an audit hook cannot be removed: it stops counting here
    assert entry.ok and entry.data["name"] == "poke"
    assert len(opened) == 1
