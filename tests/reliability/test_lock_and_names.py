"""The lock is one per Worker on an account, in a private folder, and never followed through a symlink;
a Worker's name is checked against Cloudflare's rule when the targets load."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from testing.workspace import CANARY, Workspace
from tests.engine.test_runs import SPECS
from tests.fakes.service import Service

ACCOUNT = "5a4db0c5000000000000000000000000"


def add_target(ws: Workspace, name: str, worker: str = "api-worker") -> None:
    targets = Path(ws.env["OPS_TARGETS_FILE"])
    targets.write_text(targets.read_text() + f'\n[targets.{name}]\napi_base_url = "http://127.0.0.1:9/client/v4"\n'
                       f'account_id = "{ACCOUNT}"\ntoken = "{CANARY}-token"\nworker = "{worker}"\n'
                       f'worker_url = "{ws.env["WORKER_URL"]}"\n')


@pytest.fixture
def ws(workspace: Workspace, service: Service) -> Workspace:
    workspace.env["WORKER_URL"] = service.url
    return workspace


def test_a_planted_symlink_is_refused_and_its_target_is_untouched(ws: Workspace, service: Service) -> None:
    ws.add_spec(SPECS / "poke.yaml")
    victim = ws.root / "precious.txt"
    victim.write_text("do not truncate me\n")
    locks = ws.journal / "locks"
    locks.mkdir(parents=True, mode=0o700)
    (locks / f"{ACCOUNT}--api-worker.lock").symlink_to(victim)
    done = ws.inv("remediate.poke")
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"the lock file {locks / f'{ACCOUNT}--api-worker.lock'} is a symlink" in done.stdout
    assert victim.read_text() == "do not truncate me\n"
    assert service.state.mutating() == []


def test_a_symlinked_lock_folder_is_refused(ws: Workspace, service: Service) -> None:
    ws.add_spec(SPECS / "poke.yaml")
    elsewhere = ws.root / "elsewhere"
    elsewhere.mkdir()
    ws.journal.mkdir()
    (ws.journal / "locks").symlink_to(elsewhere)
    done = ws.inv("remediate.poke")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "the lock folder" in done.stdout and "is a symlink" in done.stdout
    assert list(elsewhere.iterdir()) == [] and service.state.mutating() == []


def test_the_lock_folder_is_private(ws: Workspace, service: Service) -> None:
    ws.add_spec(SPECS / "poke.yaml")
    old = os.umask(0o022)
    try:
        assert ws.inv("remediate.poke").returncode == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((ws.journal / "locks").stat().st_mode) == 0o700
    assert stat.S_IMODE((ws.journal / "locks" / f"{ACCOUNT}--api-worker.lock").stat().st_mode) == 0o600


@pytest.mark.parametrize("name, why", [
    ("plain-api/../api-worker", "may hold only lowercase letters, digits and dashes"),
    ("../../tmp/x", "may hold only lowercase letters, digits and dashes"),
    ("Books-API", "may hold only lowercase letters, digits and dashes"),
    ("books_api", "may hold only lowercase letters, digits and dashes"),
    ("-books", "starts or ends with a dash"),
    ("a" * 64, "is longer than 63 characters"),
])
def test_a_worker_name_cloudflare_would_not_give_is_refused_where_it_is_written(
        ws: Workspace, service: Service, name: str, why: str) -> None:
    ws.add_spec(SPECS / "poke.yaml")
    add_target(ws, "odd", worker=name)
    targets = Path(ws.env["OPS_TARGETS_FILE"])
    line = targets.read_text().splitlines().index(f'worker = "{name}"') + 1
    done = ws.inv("remediate.poke", "--target", "odd", "--dry-run")
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"{targets}:{line}: target 'odd': worker = {name!r} is not a Worker name: it {why}" in done.stderr
    assert "Traceback" not in done.stderr and service.state.requests == []


def test_sixty_three_characters_is_a_worker_name(ws: Workspace, service: Service) -> None:
    ws.add_spec(SPECS / "poke.yaml")
    add_target(ws, "long", worker="a" * 63)
    assert ws.inv("remediate.poke", "--target", "long", "--dry-run").returncode == 0
