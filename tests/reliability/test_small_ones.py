"""Small integrity fixes: one JSON document under --json, errors included; no journal through a planted link."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from testing.workspace import CANARY, Workspace
from tests.engine.test_runs import SPECS
from tests.fakes.service import Service
from tests.reliability.bad_inputs import PARAMS


@pytest.mark.parametrize("name, argv", PARAMS, ids=[n for n, _ in PARAMS])
def test_json_prints_one_document_for_a_bad_param(workspace: Workspace, name: str, argv: list[str]) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    workspace.env["SHORT_SECRET"] = "abc"
    done = workspace.inv("remediate.poke", "--json", *argv)
    assert done.returncode == 2, done.stdout + done.stderr
    doc = json.loads(done.stdout)  # the whole of stdout is one document
    assert doc["status"] == "bad-input" and doc["exit_code"] == 2
    assert argv[0] in doc["message"] and "Traceback" not in done.stderr


def test_json_prints_one_document_when_the_run_itself_ends(workspace: Workspace, service: Service) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    done = workspace.inv("remediate.poke", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "ok"


def test_a_short_secret_under_json_is_a_json_error(workspace: Workspace) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    workspace.env["SHORT_SECRET"] = "abc"
    done = workspace.inv("remediate.poke", "--json", "--token", "env:SHORT_SECRET")
    assert done.returncode == 2
    assert json.loads(done.stdout) == {"status": "bad-input", "exit_code": 2,
                                       "message": "--token: a secret must be at least 4 characters long"}


def test_a_journal_symlink_is_refused_unless_named(workspace: Workspace, service: Service) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    del workspace.env["OPS_JOURNAL_DIR"]
    elsewhere = workspace.root / "elsewhere"
    elsewhere.mkdir()
    link = workspace.root / ".journal"
    link.symlink_to(elsewhere)
    refused = workspace.inv("remediate.poke")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"{link} is a symlink (to {elsewhere})" in refused.stderr
    assert f"OPS_JOURNAL_DIR={link}" in refused.stderr
    assert list(elsewhere.iterdir()) == [] and service.state.mutating() == []
    workspace.env["OPS_JOURNAL_DIR"] = str(link)
    named = workspace.inv("remediate.poke")
    assert named.returncode == 0, named.stdout + named.stderr
    assert len(list(elsewhere.glob("*.jsonl"))) == 1


def test_a_journal_folder_beside_targets_is_used(workspace: Workspace, service: Service) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    del workspace.env["OPS_JOURNAL_DIR"]
    assert workspace.inv("remediate.poke").returncode == 0
    assert len(list((workspace.root / ".journal").glob("*.jsonl"))) == 1


@pytest.mark.parametrize("method, route", [("GET", "state"), ("GET", "requests"), ("DELETE", "requests"),
                                           ("GET", "faults"), ("PUT", "faults"), ("DELETE", "faults"),
                                           ("GET", "analytics"), ("PUT", "analytics"), ("GET", "invocations"),
                                           ("DELETE", "invocations"), ("POST", "reset")])
def test_the_emulators_admin_routes_need_the_sandbox_token(tmp_path: Path, method: str, route: str) -> None:
    from ops.sandbox.emulator import start_emulator

    handle = start_emulator(tmp_path / "state.json", token=f"{CANARY}-emulator-token")
    try:
        url = f"{handle.url}/__emulator/{route}"
        for headers in ({}, {"Authorization": "Bearer sandbox-local-token"}):
            refused = httpx.request(method, url, headers=headers, json={}, timeout=5)
            assert refused.status_code == 401, refused.text
            assert "need the sandbox token" in refused.json()["error"] and CANARY not in refused.text
        assert httpx.request(method, url, headers=handle.admin_headers, json={}, timeout=5).status_code == 200
        assert httpx.get(f"{handle.url}/__emulator/health", timeout=5).status_code == 200  # liveness stays open
    finally:
        handle.stop()


@pytest.mark.parametrize("argv", [["journal.show", "no-such-run", "--json"], ["logs", "--status", "7xx", "--json"]])
def test_json_prints_one_document_for_any_tasks_error(workspace: Workspace, argv: list[str]) -> None:
    workspace.journal.mkdir()
    (workspace.journal / "20261205T000000000Z-poke-1.jsonl").write_text("")
    done = workspace.inv(*argv)
    assert done.returncode == 2, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert doc["status"] == "bad-input" and doc["exit_code"] == 2 and doc["message"] in done.stderr
