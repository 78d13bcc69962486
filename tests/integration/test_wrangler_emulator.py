"""The emulator is faithful only if the real wrangler CLI works against it; our client must see the same state."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from ops.cloudflare import CloudflareClient, list_deployments, list_kv_keys, list_queues, list_secrets, list_versions
from ops.sandbox.emulator import start_emulator
from ops.sandbox.emulator.__main__ import load_seed
from tests.conftest import REPO

WRANGLER = REPO / "node_modules" / ".bin" / "wrangler"
ACCOUNT, TOKEN = "5a4db0c5000000000000000000000000", "sandbox-local-token"
pytestmark = pytest.mark.skipif(not WRANGLER.exists(), reason="npm wrangler is not installed (./scripts/bootstrap; CI installs it)")


class World:
    def __init__(self, tmp: Path) -> None:
        self.handle = start_emulator(tmp / "state.json", seed=load_seed("default"))
        self.worker = tmp / "worker"
        shutil.copytree(REPO / "examples" / "books-worker", self.worker, ignore=shutil.ignore_patterns(".wrangler"))
        self.env = {**os.environ, "CLOUDFLARE_API_BASE_URL": self.handle.api_base_url, "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
                    "CLOUDFLARE_API_TOKEN": TOKEN, "WRANGLER_SEND_METRICS": "false", "CI": "true",
                    "HOME": str(tmp / "home"), "XDG_CONFIG_HOME": str(tmp / "home" / ".config")}
        self.client = CloudflareClient(ACCOUNT, TOKEN, base_url=self.handle.api_base_url)

    def wrangler(self, *args: str, input: str | None = None) -> str:
        done = subprocess.run([str(WRANGLER), *args], cwd=self.worker, env=self.env, capture_output=True, text=True,
                              input=input, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def wrangler_json(self, *args: str) -> Any:
        out = self.wrangler(*args)
        return json.loads(out[out.index("["):])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("wrangler"))
    w.wrangler("deploy")
    yield w
    w.client.close()
    w.handle.stop()


def test_deploy_creates_a_version_and_a_deployment(world: World) -> None:
    out = world.wrangler("deploy", "--message", "second")
    version_id = out.split("Current Version ID: ")[1].split()[0]
    assert "Uploaded books-api" in out and "env.CACHE (b0b0cafe000000000000000000000001)" in out
    assert list_deployments(world.client, "books-api")[0]["versions"][0]["version_id"] == version_id
    assert list_versions(world.client, "books-api")[0]["id"] == version_id


def test_versions_and_deployments_list_json_agree_with_our_client(world: World) -> None:
    versions = world.wrangler_json("versions", "list", "--json")
    deployments = world.wrangler_json("deployments", "list", "--json")
    ours_v = list_versions(world.client, "books-api")
    ours_d = list_deployments(world.client, "books-api")
    assert {v["id"] for v in versions} == {v["id"] for v in ours_v}
    assert {d["id"] for d in deployments} == {d["id"] for d in ours_d}
    assert {v["annotations"]["workers/triggered_by"] for v in versions} <= {"upload", "version_upload", "secret", "rollback", "deployment"}


def test_secret_put_on_stdin_and_secret_list(world: World) -> None:
    out = world.wrangler("secret", "put", "JWT_SECRET", input="a-secret-from-stdin\n")
    assert "Success! Uploaded secret JWT_SECRET" in out
    listed = world.wrangler_json("secret", "list")
    assert {"name": "JWT_SECRET", "type": "secret_text"} in listed
    assert [s["name"] for s in list_secrets(world.client, "books-api")] == ["JWT_SECRET"]


def test_rollback_across_changed_secrets_takes_the_10220_path(world: World) -> None:
    before = list_deployments(world.client, "books-api")[0]["versions"][0]["version_id"]
    out = world.wrangler("rollback", "--yes", "--message", "test rollback")
    assert "The following secrets have changed since version" in out  # wrangler parsed our 10220 message
    assert "has been deployed to 100% of traffic" in out
    now = list_deployments(world.client, "books-api")[0]
    assert now["versions"][0]["version_id"] != before
    assert now["annotations"]["workers/message"] == "test rollback"
    requests = json.loads(os.popen(f"curl -s {world.handle.url}/__emulator/requests").read())
    posts = [r for r in requests if r["method"] == "POST" and r["path"].endswith("/deployments")]
    assert [r["status"] for r in posts[-2:]] == [400, 200] and posts[-1]["query"] == "force=true"


def test_kv_namespace_list_and_bulk_put(world: World, tmp_path: Path) -> None:
    namespaces = world.wrangler_json("kv", "namespace", "list")
    assert {"id": "b0b0cafe000000000000000000000001", "title": "books-cache", "supports_url_encoding": True} in namespaces
    pairs = tmp_path / "pairs.json"
    pairs.write_text(json.dumps([{"key": f"book:{i}", "value": f"v{i}"} for i in range(25)]))
    out = world.wrangler("kv", "bulk", "put", str(pairs), "--namespace-id", "b0b0cafe000000000000000000000001", "--remote")
    assert "Success!" in out
    keys = [k["name"] for k in list_kv_keys(world.client, "b0b0cafe000000000000000000000001")]
    assert len([k for k in keys if k.startswith("book:")]) == 25


def test_queues_list_shows_the_consumer_wrangler_attached(world: World) -> None:
    out = world.wrangler("queues", "list")
    assert "enrichment-jobs" in out and "enrichment-dlq" in out
    queues = {q["queue_name"]: q for q in list_queues(world.client)}
    assert [c["script"] for c in queues["enrichment-jobs"]["consumers"]] == ["books-api"]
