"""A reset starts from the snapshot only while what it was taken from holds (ops.sandbox.snapshot)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ops.sandbox import snapshot
from ops.sandbox.constants import BOOKS
from ops.sandbox.layout import Layout
from ops.sandbox.ports import Ports

REPO = Path(__file__).resolve().parents[2]


def layout(tmp_path: Path) -> Layout:
    root = tmp_path / "checkout"
    shutil.copytree(REPO / "examples" / BOOKS.example, root / "examples" / BOOKS.example)
    home = tmp_path / "home"
    for part in snapshot.PARTS:
        (home / part).mkdir(parents=True)
    (home / "emulator" / "state.json").write_text('{"scripts": {}}')
    (home / "workers" / "wrangler.toml").write_text('name = "api-worker"\n')
    return Layout(root, home, Ports(21000), workers=(BOOKS,))


def test_a_snapshot_is_put_back_while_its_fingerprint_holds(tmp_path: Path) -> None:
    sb = layout(tmp_path)
    snapshot.take(sb.home, snapshot.fingerprint(sb))
    for part in snapshot.PARTS:
        shutil.rmtree(sb.home / part)
    assert snapshot.restore(sb.home, snapshot.fingerprint(sb))
    assert (sb.home / "emulator" / "state.json").read_text() == '{"scripts": {}}'
    assert (sb.home / "workers" / "wrangler.toml").is_file()


def test_an_edited_worker_or_another_secret_makes_the_next_reset_a_fresh_one(tmp_path: Path) -> None:
    sb = layout(tmp_path)
    taken = snapshot.fingerprint(sb)
    snapshot.take(sb.home, taken)
    source = sb.source_of(BOOKS) / "wrangler.toml"
    source.write_text(source.read_text() + "\n# edited\n")
    edited = snapshot.fingerprint(sb)
    assert edited != taken
    os.utime(source, ns=(0, 0))
    assert snapshot.fingerprint(sb) not in (taken, edited)  # a touched file counts, whatever its content
    touched = snapshot.fingerprint(sb)
    sb.secrets = {**sb.secrets, "CACHE_WARM_SECRET": "another"}
    assert snapshot.fingerprint(sb) != touched
    for part in snapshot.PARTS:
        shutil.rmtree(sb.home / part)
    assert not snapshot.restore(sb.home, snapshot.fingerprint(sb))
    assert not (sb.home / snapshot.FOLDER).exists() and not (sb.home / "emulator").exists()
