"""`edit` replaces a config in one rename, and the new file keeps the old one's mode (it went 644 -> 600)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.actions.base import Context
from ops.actions.edit import EditAction, EditArgs
from ops.targets import Target


@pytest.mark.parametrize("mode", [0o644, 0o664, 0o600, 0o755])
def test_edit_keeps_the_files_mode(tmp_path: Path, mode: int) -> None:
    config = tmp_path / "wrangler.toml"
    config.write_text('name = "api-worker"\n\n[vars]\nPROVIDER_ORDER = "a,b"  # first wins\n')
    config.chmod(mode)
    target = Target("t", "http://127.0.0.1:9", "a" * 32, "api-worker", "http://127.0.0.1:9", "x", root=tmp_path)
    outputs = EditAction().run(EditArgs(file="wrangler.toml", set={"vars.PROVIDER_ORDER": "b,a"}),
                               Context(target, dry_run=False))
    assert outputs["changed"] is True
    assert 'PROVIDER_ORDER = "b,a"  # first wins' in config.read_text()
    assert (config.stat().st_mode & 0o7777) == mode
    assert [p.name for p in tmp_path.iterdir()] == ["wrangler.toml"]  # no temporary file left behind
