"""The CLI boundary under attack: SIGTERM, a closed pipe, crashes, free text that looks like a flag, and progress."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from invoke.exceptions import Exit

from ops.cli.boundary import guarded, write_private
from testing.workspace import REPO, Workspace
from tests.engine.test_runs import SPECS
from tests.fakes.service import Service


@pytest.fixture
def signal_handlers() -> Iterator[None]:
    """`guarded` installs handlers for SIGINT and SIGTERM; give pytest its own back."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


def _events(ws: Workspace) -> list[dict[str, Any]]:
    [path] = sorted(ws.journal.glob("*.jsonl"))
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_sigterm_journals_run_end_and_exits_143(workspace: Workspace, service: Service) -> None:
    service.state.slow_seconds = 2.0
    workspace.add_spec(SPECS / "converge.yaml")
    proc = workspace.popen("remediate.converge")
    deadline = time.monotonic() + 20
    while not any(e["event"] == "step-start" for e in (_events(workspace) if list(workspace.journal.glob("*.jsonl")) else [])):
        assert time.monotonic() < deadline, "the run never started its first step"
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 143, stdout + stderr
    events = _events(workspace)
    assert events[-1]["event"] == "run-end" and events[-1]["status"] == "terminated"
    assert "terminated (SIGTERM) during 'halfway'" in events[-1]["message"]


def test_a_late_interrupt_after_the_body_ends_quietly_with_its_code() -> None:
    code = textwrap.dedent("""
        import os, signal, time
        from invoke.exceptions import Exit
        from ops.cli.boundary import guarded
        @guarded
        def body():
            raise Exit(code=3)
        try:
            body()
        except Exit:
            pass
        os.kill(os.getpid(), signal.SIGINT)  # lands after the engine returned and the result was printed
        time.sleep(5)
        print("not reached")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=30)
    assert (done.returncode, done.stdout, done.stderr) == (3, "", "")


def test_list_into_a_closed_pipe_exits_quietly(workspace: Workspace) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "invoke", "--search-root", str(REPO), "--list"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=workspace.env, cwd=workspace.root)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # `| head` that has already gone
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == 141
    assert err == ""


def _crash(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    @guarded
    def body() -> None:
        raise RuntimeError("a bug")

    with pytest.raises(Exit) as exited:
        body()
    assert exited.value.code == 1
    message = capsys.readouterr().err
    found = re.search(r"the traceback is in (\S+); please report it", message)
    assert found, message
    return Path(found.group(1))


def test_the_crash_log_lives_with_the_run_private_and_unique(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str],
                                                              signal_handlers: None) -> None:
    from ops.engine.journal import Journal

    monkeypatch.setenv("OPS_JOURNAL_DIR", str(tmp_path / "journal"))
    Journal(tmp_path / "journal", "20261123T000000000Z-rollback-42")
    first, second = _crash(monkeypatch, capsys), _crash(monkeypatch, capsys)  # two crashes in one second
    assert first != second and first.parent == second.parent == tmp_path / "journal"
    for log in (first, second):
        assert "20261123T000000000Z-rollback-42" in log.name
        assert (log.stat().st_mode & 0o777) == 0o600
        assert "RuntimeError: a bug" in log.read_text()


def test_a_crash_log_never_follows_a_symlink(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    (tmp_path / "logs").mkdir()
    os.symlink(victim, tmp_path / "logs" / "crash.log")
    with pytest.raises(FileExistsError):
        write_private(tmp_path / "logs", "crash.log", "traceback")
    os.symlink(tmp_path / "logs", tmp_path / "linked")
    with pytest.raises(OSError):
        write_private(tmp_path / "linked", "other.log", "traceback")  # a symlinked folder is refused too
    assert victim.read_text() == "keep\n" and not (tmp_path / "logs" / "other.log").exists()


def test_a_crash_with_no_journal_goes_to_the_user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str],
                                                         signal_handlers: None) -> None:
    (tmp_path / "journal-file").write_text("")
    monkeypatch.setenv("OPS_JOURNAL_DIR", str(tmp_path / "journal-file" / "x"))  # cannot be a folder
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    log = _crash(monkeypatch, capsys)
    assert log.parent == tmp_path / "cache" / "cfw-remedy"
    assert (log.parent.stat().st_mode & 0o777) == 0o700


FREE_TEXT = ["--force", "--", "-x", "--dry-run", "--no-force", "--yes --json", "remediate.rollback", "--help"]


@pytest.mark.parametrize("spelling", ["--message VALUE", "--message=VALUE"])
@pytest.mark.parametrize("message", FREE_TEXT)
def test_free_text_that_looks_like_a_flag_is_data(workspace: Workspace, service: Service, message: str,
                                                  spelling: str) -> None:
    workspace.add_spec(REPO / "remediations" / "rollback.yaml")
    flag = ["--message", message] if spelling == "--message VALUE" else [f"--message={message}"]
    done = workspace.inv("remediate.rollback", "--dry-run", "--json", *flag)
    result = json.loads(done.stdout)  # no Cloudflare here: the plan stops at its first precondition, with the params
    assert done.returncode == 3 and result["failed_step"] == "state", done.stdout + done.stderr
    assert result["params"]["message"] == message
    assert result["params"]["force"] is False and result["mode"] == "dry-run"
    assert service.state.mutating() == []


def test_flags_after_a_dash_dash_value_are_still_read(workspace: Workspace, service: Service) -> None:
    workspace.add_spec(REPO / "remediations" / "rollback.yaml")
    done = workspace.inv("remediate.rollback", "--message", "--", "--dry-run", "--json", "--force")
    result = json.loads(done.stdout)
    assert result["params"]["message"] == "--" and result["params"]["force"] is True and result["mode"] == "dry-run"


def test_a_noop_is_never_shown_as_fail(workspace: Workspace, service: Service) -> None:
    service.state.value = 42
    workspace.add_spec(SPECS / "converge.yaml")
    done = workspace.inv("remediate.converge")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FAIL" not in done.stdout + done.stderr
    assert "noop precondition not-there-yet" in done.stdout


def _screen(raw: bytes) -> list[str]:
    """What a terminal shows: `\\r` returns to the line's start and `ESC [K` erases the rest of it."""
    lines = []
    for line in raw.decode().replace("\r\n", "\n").split("\n"):
        shown = line.split("\r")[-1].replace("\x1b[K", "")
        if shown.strip():
            lines.append(shown)
    return lines


def test_progress_on_a_terminal_is_one_live_line_that_the_plan_replaces(workspace: Workspace, service: Service) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "invoke", "--search-root", str(REPO), "remediate.poke", "--dry-run"],
                            stdout=subprocess.PIPE, stderr=slave, env=workspace.env, cwd=workspace.root)
    os.close(slave)
    stdout, _ = proc.communicate(timeout=60)
    raw = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        raw += chunk
    os.close(master)
    assert proc.returncode == 0
    assert b"\r\x1b[K" in raw  # it was live
    assert [line for line in _screen(raw) if not line.startswith("target ")] == []  # and the plan replaced it
    plan = stdout.decode()
    assert plan.count("precondition healthy") == 1 and plan.count("step add-one") == 1


def test_progress_off_a_terminal_is_plain_lines_for_changes_only(workspace: Workspace, service: Service) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    done = workspace.inv("remediate.poke")
    assert done.returncode == 0
    assert "\x1b" not in done.stderr and "\r" not in done.stderr
    progress = done.stderr.splitlines()[1:]
    assert [line.split(":")[0].strip() for line in progress] == [
        "..   step add-one", "done step add-one", "..   step add-ten", "done step add-ten", "ok   check value"]
    assert done.stdout.count("step add-one") == 1


@pytest.mark.parametrize("task, listed", [("sandbox.break", "--scenario=STRING"), ("journal.show", "--run=STRING")])
def test_help_after_a_task_that_takes_a_word_is_help(workspace: Workspace, task: str, listed: str) -> None:
    done = workspace.inv(task, "--help")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Usage: inv[oke] [--core-opts] {task}" in done.stdout and listed in done.stdout


def test_a_break_without_a_scenario_names_them(workspace: Workspace) -> None:
    done = workspace.inv("sandbox.break", "--worker", "ai")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "name a scenario (inv sandbox.break SCENARIO): one of cache-flush, bad-deploy" in done.stderr


@pytest.mark.parametrize("argv, expanded", [
    (["sandbox.break", "cache-flush", "--worker", "ai"], ["sandbox.break", "--scenario", "cache-flush", "--worker", "ai"]),
    (["sandbox.break", "--worker", "ai", "cache-flush"], ["sandbox.break", "--worker", "ai", "--scenario", "cache-flush"]),
    (["journal.show", "--json", "latest"], ["journal.show", "--json", "--run", "latest"]),
    (["incident.report", "--since", "2026-11-23T20:00", "--out", "r.md"],
     ["incident.report", "--since", "2026-11-23T20:00", "--out", "r.md"]),
    (["journal.show", "--run", "x", "sandbox.status"], ["journal.show", "--run", "x", "sandbox.status"]),
    (["incident.report", "--out=r.md", "latest"], ["incident.report", "--out", "r.md", "--run", "latest"]),
    (["journal.show", "x", "remediate.rollback", "--dry-run"], ["journal.show", "--run", "x", "remediate.rollback", "--dry-run"]),
    (["specs.check", "a.yaml", "--format", "json", "b"], ["specs.check", "--paths", "a.yaml", "--format", "json", "--paths", "b"]),
    (["sandbox.break", "--help"], ["sandbox.break", "--help"]),
    (["remediate.rollback", "--message", "--force", "--dry-run"], ["remediate.rollback", "--dry-run"]),
    (["remediate.rollback", "--message=-x", "--", "--force"], ["remediate.rollback", "--message", "-x", "--", "--force"]),
])
def test_the_word_a_task_takes_may_come_anywhere_among_its_flags(argv: list[str], expanded: list[str]) -> None:
    from invoke.parser.context import ParserContext

    from ops.cli.argv import read
    from ops.cli.namespace import build_namespace

    ns = build_namespace(["remediate.rollback"])
    contexts = {name: ParserContext(name=name, args=ns[name].get_arguments()) for name in ns.task_names}
    assert read(argv, contexts)[0] == expanded


@pytest.mark.parametrize("flag", [["--run", "--json"], ["--run=--json"]])
def test_any_value_flag_takes_a_word_that_is_one_of_its_tasks_flags(workspace: Workspace, flag: list[str]) -> None:
    (workspace.root / "journal").mkdir(exist_ok=True)
    (workspace.root / "journal" / "20261123T025000Z-rollback-0001.jsonl").write_text("")
    done = workspace.inv("journal.show", *flag)
    assert done.returncode == 2 and "no run matches '--json'" in done.stderr and "Traceback" not in done.stderr, done.stderr
