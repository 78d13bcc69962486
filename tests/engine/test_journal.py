"""The journal is the first thing that must work: whole lines or a JournalError, never a torn line.

A full disk is made real with RLIMIT_FSIZE: the kernel then writes short and
fails the next write with EFBIG, the same two things ENOSPC does to a journal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ops.engine.journal import Journal, read_events, unrecorded
from ops.errors import JournalError, OpsError
from testing.workspace import REPO


def _run_with_file_limit(folder: Path, limit: int, events: int) -> subprocess.CompletedProcess[str]:
    """Journal `events` events in a child process whose files may not grow past `limit` bytes."""
    code = textwrap.dedent(f"""
        import resource, signal, sys
        from pathlib import Path
        from ops.engine.journal import Journal
        from ops.errors import JournalError
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
        journal = Journal(Path({str(folder)!r}), "run-1")
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        for n in range({events}):
            try:
                journal.event("step-end", name="s" * 40, n=n)
            except JournalError as exc:
                print("JournalError:", exc)
                sys.exit(7)
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=30)


def test_a_full_disk_raises_journal_error_and_leaves_whole_lines(tmp_path: Path) -> None:
    done = _run_with_file_limit(tmp_path, limit=700, events=50)
    assert done.returncode == 7, done.stderr
    assert "cannot write the journal" in done.stdout and "(EFBIG)" in done.stdout
    assert "event 'step-end'" in done.stdout
    text = (tmp_path / "run-1.jsonl").read_text()
    assert text.endswith("\n")  # the short write was cut back: no torn last line
    events = [json.loads(line) for line in text.splitlines()]
    assert [e["n"] for e in events] == list(range(len(events))) and 0 < len(events) < 50


def test_journal_error_is_part_of_the_error_tree_and_exits_1() -> None:
    assert issubclass(JournalError, OpsError) and JournalError.exit_code == 1


def test_an_unwritable_journal_folder_is_a_journal_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(JournalError, match=r"cannot open the journal .*Not a directory"):
        Journal(tmp_path / "file" / "journal", "run-1").event("run-start")


def test_the_reader_skips_a_torn_line(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "run-1")
    journal.event("run-start", spec="x")
    with journal.path.open("a") as handle:
        handle.write('{"ts": "2026-11-23T00:00:00.000+00:00", "mono": 1, "run": "run-1", "ev')  # a crash mid-write
    assert [e["event"] for e in read_events(journal.path)] == ["run-start"]
    journal.event("run-end", status="ok")  # the next event starts on its own line
    assert [e["event"] for e in read_events(journal.path)] == ["run-start", "run-end"]


def test_a_new_run_file_is_private_and_created_once(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal", "run-1")
    journal.event("run-start")
    journal.event("run-end")
    assert (journal.path.stat().st_mode & 0o777) == 0o600
    assert len(journal.path.read_text().splitlines()) == 2
    again = Journal(tmp_path / "journal", "run-1")  # a clash of run ids never appends to another run
    with pytest.raises(JournalError, match="File exists"):
        again.event("run-start")


def test_unrecorded_says_the_state_left_on_stderr(capfd: pytest.CaptureFixture[str]) -> None:
    unrecorded("CHANGED: completed deploy; not undone", "cannot write the journal x: No space left on device (ENOSPC)")
    err = capfd.readouterr().err
    assert "JOURNAL NOT WRITTEN: cannot write the journal x: No space left on device (ENOSPC)" in err
    assert "state left: CHANGED: completed deploy; not undone" in err


def test_unrecorded_never_raises_even_without_stderr() -> None:
    code = ("import os; os.close(2)\nfrom ops.engine.journal import unrecorded\n"
            "unrecorded('unchanged', 'disk full'); print('still here')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=30)
    assert done.returncode == 0 and done.stdout == "still here\n"


def test_the_journal_never_follows_a_planted_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    folder = tmp_path / "journal"
    folder.mkdir()
    os.symlink(victim, folder / "run-1.jsonl")
    with pytest.raises(JournalError):
        Journal(folder, "run-1").event("run-start")
    assert victim.read_text() == "keep\n"
