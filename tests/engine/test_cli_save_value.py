"""`--save-value`: a generated secret delivered to a 0600 file or a command's stdin, never printed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from ops.engine.params import SecretValue
from ops.engine.secret_delivery import DeliveryFailed, SaveValue
from ops.errors import InputError

VALUE = "generated-9c1e-value-that-must-not-print"
GENERATED = {"name": "CACHE_WARM_SECRET", "value": SecretValue(VALUE, "generate")}


def test_a_file_is_written_0600_before_the_run(tmp_path: Path) -> None:
    path = tmp_path / "warm-secret"
    save = SaveValue.parse(f"file:{path}", GENERATED)
    said = save.before_run()
    assert said is not None and VALUE not in said and str(path) in said
    assert path.read_text() == VALUE + "\n"
    assert (path.stat().st_mode & 0o777) == 0o600
    assert save.after_run("ok", "changed: put") is None  # nothing more to do after


def test_an_existing_file_is_tightened_to_0600(tmp_path: Path) -> None:
    path = tmp_path / "warm-secret"
    path.write_text("old\n")
    path.chmod(0o644)
    SaveValue.parse(f"file:{path}", GENERATED).before_run()
    assert (path.stat().st_mode & 0o777) == 0o600 and path.read_text() == VALUE + "\n"


def test_a_symlink_is_never_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    os.symlink(victim, tmp_path / "link")
    with pytest.raises(InputError, match="symlink"):
        SaveValue.parse(f"file:{tmp_path / 'link'}", GENERATED)
    assert victim.read_text() == "keep\n"


def test_a_command_gets_the_value_on_stdin_once_it_is_live(tmp_path: Path) -> None:
    sink = tmp_path / "stdin"
    store = tmp_path / "store.py"  # a stand-in for `gh secret set NAME`: keeps what it reads on stdin
    store.write_text("import sys\nopen(sys.argv[1], 'w').write(sys.stdin.read())\n")
    save = SaveValue.parse(f"cmd:{sys.executable} {store} {sink}", GENERATED)
    assert save.before_run() is None and not sink.exists()
    said = save.after_run("undone", "restored: undid put")
    assert said is not None and "not live" in said and not sink.exists()  # undone: the old value is back
    said = save.after_run("ok", "changed: put")
    assert said is not None and VALUE not in said
    assert sink.read_text() == VALUE


def test_a_failing_command_says_the_value_is_live_but_not_stored(tmp_path: Path) -> None:
    save = SaveValue.parse(f"cmd:{sys.executable} -c 'import sys; sys.exit(4)'", GENERATED)
    with pytest.raises(DeliveryFailed, match="exited 4.*live but was not stored") as failed:
        save.after_run("ok", "changed: put")
    assert VALUE not in str(failed.value)


@pytest.mark.parametrize("text, params, message", [
    ("file:/x", {"value": SecretValue(VALUE, "env:X")}, "give a secret param the source `generate`"),
    ("somewhere", GENERATED, "is not a destination; write file:PATH or cmd:"),
    ("file:/no/such/folder/x", GENERATED, "does not exist"),
    ("cmd:no-such-program-4711 set X", GENERATED, "is not a program on PATH"),
])
def test_bad_destinations_are_bad_input(text: str, params: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        SaveValue.parse(text, params)


def test_only_a_remediation_that_can_generate_a_secret_takes_the_flag() -> None:
    from ops.cli.remediate_tasks import compile_entry
    from ops.engine.catalog import discover

    from testing.workspace import REPO

    tasks = {e.name: compile_entry(e) for e in discover(REPO / "remediations") if e.name in ("rollback", "secret-rotation")}
    assert "save_value" not in tasks["rollback"].help and "save_value" in tasks["secret-rotation"].help
    assert "save_value" not in [a.name for a in tasks["rollback"].get_arguments()]
