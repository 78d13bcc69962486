"""One result and one set of reporters for every gate: check.bindings, check.bundle-size and check.all
give text, JSON and GitHub annotations the same way, and check.all combines the three into one result."""

from __future__ import annotations

import json
import os
from pathlib import Path

from testing.workspace import Workspace

GOOD = 'name = "ok-app"\nmain = "x.js"\ncompatibility_date = "2026-01-01"\n'


def bundle(folder: Path, size: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.js").write_bytes(os.urandom(size))  # incompressible: gzip size = size + ~20
    return folder


def test_bundle_size_json_and_github_go_through_the_shared_reporters(workspace: Workspace, tmp_path: Path) -> None:
    out = bundle(tmp_path / "dist", 100 * 1024)
    done = workspace.inv("check.bundle-size", "--dir", str(out), "--format", "json")
    doc = json.loads(done.stdout)
    assert done.returncode == 0 and doc["ok"] is True and doc["findings"] == []
    assert doc["bundle"]["size"] == 100 * 1024 and doc["bundle"]["gzip_exact"] is False
    assert "gzip by CPython zlib in-process" in doc["notes"][0]
    over = workspace.inv("check.bundle-size", "--dir", str(out), "--budget", "raw:50KiB", "--format", "github")
    assert over.returncode == 1
    assert over.stdout.splitlines()[0].startswith("::error title=bundle size%3A bundle-over-budget::the bundle is 100.00 KiB raw")


def test_check_all_gives_one_combined_result_in_each_format(workspace: Workspace, tmp_path: Path) -> None:
    config = tmp_path / "wrangler.toml"
    config.write_text(GOOD + '[[kv_namespaces]]\nbinding = "KV"\nid = "xxxx"\n')
    out = bundle(tmp_path / "dist", 2048)
    args = ("check.all", "--config", str(config), "--dir", str(out))
    as_json = workspace.inv(*args, "--format", "json")
    doc = json.loads(as_json.stdout)
    assert as_json.returncode == 1 and doc["ok"] is False
    assert [f["code"] for f in doc["findings"]] == ["placeholder-id"] and doc["bundle"]["size"] == 2048
    assert any(n.startswith("bindings: the verdict follows wrangler") for n in doc["notes"])
    github = workspace.inv(*args, "--format", "github")
    lines = github.stdout.splitlines()
    assert github.returncode == 1 and lines[0].startswith(f"::error file={config},line=6,col=1,title=check.all%3A placeholder-id::")
    assert any(line.startswith("::notice title=check.all::bundle: Total Upload: 2.00 KiB") for line in lines)
    text = workspace.inv(*args)
    assert text.returncode == 1 and text.stdout.rstrip().endswith("1 error(s), 0 warning(s): FAILED")
    config.write_text(GOOD)
    assert workspace.inv(*args, "--format", "github").returncode == 0


def test_the_verdict_follows_the_wrangler_version_and_says_so(workspace: Workspace, tmp_path: Path) -> None:
    config = tmp_path / "wrangler.toml"
    config.write_text(GOOD + '[durable_objects]\nclasses = [{ binding = "ROOM", class_name = "Room" }]\n')
    old = workspace.inv("check.bindings", "--config", str(config), "--wrangler-version", "4.86.0", "--format", "json")
    new = workspace.inv("check.bindings", "--config", str(config), "--wrangler-version", "4.164.0", "--format", "json")
    old_doc, new_doc = json.loads(old.stdout), json.loads(new.stdout)
    assert old.returncode == 1 and [f["code"] for f in old_doc["findings"]] == ["missing-required-field"]
    assert new.returncode == 0 and [f["code"] for f in new_doc["findings"]] == ["unexpected-field"]
    assert old_doc["notes"] == ["bindings: the verdict follows wrangler 4.86.0 (shipped schema; --wrangler-version 4.86.0)"]
    assert new_doc["findings"][0]["line"] == 5 and new_doc["findings"][0]["layer"] == "schema"
