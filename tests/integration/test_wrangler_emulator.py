"""The emulator is faithful only if the real wrangler CLI works against it; our client must see the same state.

Every test runs with the pinned wrangler and with the other end of the supported range
(4.86, the oldest, and 4.164, the current; see ``wranglers``).
"""

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
from testing.workspace import REPO
from tests.integration.wranglers import PINNED, VERSIONS, wrangler_bin

ACCOUNT, TOKEN = "5a4db0c5000000000000000000000000", "sandbox-local-token"
pytestmark = pytest.mark.skipif(not wrangler_bin(PINNED).exists(),
                                reason="npm wrangler is not installed (./scripts/bootstrap; CI installs it)")


class World:
    def __init__(self, tmp: Path, version: str = PINNED) -> None:
        self.version = version
        self.bin = wrangler_bin(version)
        self.handle = start_emulator(tmp / "state.json", seed=load_seed("default"))
        self.worker = tmp / "worker"
        shutil.copytree(REPO / "examples" / "books-worker", self.worker, ignore=shutil.ignore_patterns(".wrangler"))
        self.env = {**os.environ, "CLOUDFLARE_API_BASE_URL": self.handle.api_base_url, "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
                    "CLOUDFLARE_API_TOKEN": TOKEN, "WRANGLER_SEND_METRICS": "false", "CI": "true",
                    "HOME": str(tmp / "home"), "XDG_CONFIG_HOME": str(tmp / "home" / ".config")}
        self.client = CloudflareClient(ACCOUNT, TOKEN, base_url=self.handle.api_base_url)

    def wrangler(self, *args: str, input: str | None = None) -> str:
        done = subprocess.run([str(self.bin), *args], cwd=self.worker, env=self.env, capture_output=True, text=True,
                              input=input, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def wrangler_json(self, *args: str) -> Any:
        out = self.wrangler(*args)
        return json.loads(out[out.index("["):])


@pytest.fixture(scope="module", params=VERSIONS, ids=[f"wrangler-{v}" for v in VERSIONS])
def world(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("wrangler"), request.param)
    w.wrangler("deploy")
    yield w
    w.client.close()
    w.handle.stop()


def test_deploy_creates_a_version_and_a_deployment(world: World) -> None:
    out = world.wrangler("deploy", "--message", "second")
    version_id = out.split("Current Version ID: ")[1].split()[0]
    assert "Uploaded api-worker" in out and "env.CACHE (b0b0cafe000000000000000000000001)" in out
    assert list_deployments(world.client, "api-worker")[0]["versions"][0]["version_id"] == version_id
    assert list_versions(world.client, "api-worker")[0]["id"] == version_id


def test_versions_and_deployments_list_json_agree_with_our_client(world: World) -> None:
    versions = world.wrangler_json("versions", "list", "--json")
    deployments = world.wrangler_json("deployments", "list", "--json")
    ours_v = list_versions(world.client, "api-worker")
    ours_d = list_deployments(world.client, "api-worker")
    assert {v["id"] for v in versions} == {v["id"] for v in ours_v}
    assert {d["id"] for d in deployments} == {d["id"] for d in ours_d}
    assert {v["annotations"]["workers/triggered_by"] for v in versions} <= {"upload", "version_upload", "secret", "rollback", "deployment"}


def test_secret_put_on_stdin_and_secret_list(world: World) -> None:
    out = world.wrangler("secret", "put", "JWT_SECRET", input="a-secret-from-stdin\n")
    assert "Success! Uploaded secret JWT_SECRET" in out
    listed = world.wrangler_json("secret", "list")
    assert {"name": "JWT_SECRET", "type": "secret_text"} in listed
    assert [s["name"] for s in list_secrets(world.client, "api-worker")] == ["JWT_SECRET"]


def test_rollback_across_changed_secrets_takes_the_10220_path(world: World) -> None:
    # Its own history, whatever ran before it on this worker: a deploy, then a secret that changes after it.
    world.wrangler("deploy", "--message", "before the secret changed")
    world.wrangler("secret", "put", "JWT_SECRET", input="a-secret-changed-after-the-deploy\n")
    before = list_deployments(world.client, "api-worker")[0]["versions"][0]["version_id"]
    out = world.wrangler("rollback", "--yes", "--message", "test rollback")
    assert "The following secrets have changed since version" in out  # wrangler parsed our 10220 message
    assert "has been deployed to 100% of traffic" in out
    now = list_deployments(world.client, "api-worker")[0]
    assert now["versions"][0]["version_id"] != before
    assert now["annotations"]["workers/message"] == "test rollback"
    requests = json.loads(os.popen(f"curl -s -H 'Authorization: Bearer {TOKEN}' {world.handle.url}/__emulator/requests").read())
    posts = [r for r in requests if r["method"] == "POST" and r["path"].endswith("/deployments")]
    assert [r["status"] for r in posts[-2:]] == [400, 200] and posts[-1]["query"] == "force=true"


def test_kv_namespace_list_and_bulk_put(world: World, tmp_path: Path) -> None:
    namespaces = world.wrangler_json("kv", "namespace", "list")
    assert {"id": "b0b0cafe000000000000000000000001", "title": "api-worker-CACHE", "supports_url_encoding": True} in namespaces
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
    assert [c["script"] for c in queues["enrichment-jobs"]["consumers"]] == ["api-worker"]


def test_a_durable_object_migration_deploys_and_its_tag_is_kept(world: World, tmp_path: Path) -> None:
    worker = tmp_path / "counter"
    (worker / "src").mkdir(parents=True)
    (worker / "src" / "index.js").write_text(
        "export class Counter { constructor(state) { this.state = state } async fetch() { return new Response('1') } }\n"
        "export default { fetch(request, env) { return env.COUNTER.get(env.COUNTER.idFromName('a')).fetch(request) } }\n")
    config = worker / "wrangler.toml"
    config.write_text('name = "counter"\nmain = "src/index.js"\ncompatibility_date = "2026-04-01"\n\n'
                      '[[durable_objects.bindings]]\nname = "COUNTER"\nclass_name = "Counter"\n\n'
                      '[[migrations]]\ntag = "v1"\nnew_classes = ["Counter"]\n')
    run = lambda *args: subprocess.run([str(world.bin), *args], cwd=worker, env=world.env, capture_output=True,  # noqa: E731
                                       text=True, timeout=120)
    first = run("deploy")
    assert first.returncode == 0, first.stdout + first.stderr
    config.write_text(config.read_text() + '\n[[migrations]]\ntag = "v2"\nnew_sqlite_classes = []\n')
    second = run("deploy")  # sends old_tag v1, which the emulator checks against the script's tag
    assert second.returncode == 0, second.stdout + second.stderr
    state = json.loads(os.popen(f"curl -s -H 'Authorization: Bearer {TOKEN}' {world.handle.url}/__emulator/state").read())
    assert state["scripts"]["counter"]["migration_tag"] == "v2"
    scripts = world.client.result("GET", "/workers/scripts")
    assert {"id": "counter", "migration_tag": "v2"}.items() <= next(s for s in scripts if s["id"] == "counter").items()


def test_the_everyday_commands_of_an_ordinary_worker_find_every_route(world: World) -> None:
    ns = "b0b0cafe000000000000000000000001"
    before = len(json.loads(os.popen(f"curl -s -H 'Authorization: Bearer {TOKEN}' {world.handle.url}/__emulator/requests").read()))

    def unrouted() -> list[str]:
        requests = json.loads(os.popen(f"curl -s -H 'Authorization: Bearer {TOKEN}' {world.handle.url}/__emulator/requests").read())[before:]
        return [f"{r['method']} {r['path']}" for r in requests if r["status"] == 404]

    world.wrangler("kv", "key", "put", "--namespace-id", ns, "greeting", "hello", "--remote")
    assert world.wrangler("kv", "key", "get", "--namespace-id", ns, "greeting", "--remote").strip() == "hello"  # raw
    assert "greeting" in world.wrangler("kv", "key", "list", "--namespace-id", ns, "--remote")
    world.wrangler("kv", "key", "delete", "--namespace-id", ns, "greeting", "--remote")
    world.wrangler("d1", "create", "books-db")
    assert "books-db" in world.wrangler("d1", "list")
    world.wrangler("d1", "delete", "books-db", "-y")
    world.wrangler("queues", "create", "scratch-jobs")
    world.wrangler("queues", "delete", "scratch-jobs")
    assert "scratch-jobs" not in {q["queue_name"] for q in list_queues(world.client)}
    assert unrouted() == []
    # 4.164: PATCH .../versions/latest; 4.86: GET .../content/v2 (multipart), then POST .../versions with the
    # unchanged bindings as "inherit" and the secrets kept.
    kept = list_versions(world.client, "api-worker")[0]["resources"]["bindings"]
    world.wrangler("versions", "secret", "put", "VERSIONED_SECRET", input="v-secret\n")
    newest = list_versions(world.client, "api-worker")[0]  # a new version with the secret, not deployed
    assert {"type": "secret_text", "name": "VERSIONED_SECRET"} in newest["resources"]["bindings"]
    assert all(b in newest["resources"]["bindings"] for b in kept)  # the other bindings and secrets are kept
    assert list_deployments(world.client, "api-worker")[0]["versions"][0]["version_id"] != newest["id"]
    assert unrouted() == []


def _content(world: World, version_id: str) -> list[tuple[str, str]]:
    state = json.loads(os.popen(f"curl -s -H 'Authorization: Bearer {TOKEN}' {world.handle.url}/__emulator/state").read())
    version = next(v for v in state["scripts"]["api-worker"]["versions"] if v["id"] == version_id)
    return [(m["name"], m["digest"]) for m in version["_modules"]]


def test_versions_secret_put_then_versions_deploy_takes_no_10220_path(world: World) -> None:
    # The documented gradual secret rollout: a new version with the secret, then deployed. Only a rollback meets 10220.
    world.wrangler("versions", "secret", "put", "ROLLED_OUT_SECRET", input="gradual\n")
    newest = list_versions(world.client, "api-worker")[0]
    out = world.wrangler("versions", "deploy", f"{newest['id']}@100%", "--yes", "--message", "secret rollout")
    assert list_deployments(world.client, "api-worker")[0]["versions"] == [{"version_id": newest["id"], "percentage": 100.0}], out


def test_after_a_rollback_wranglers_versions_secret_put_copies_the_latest_and_ours_the_deployed(world: World) -> None:
    from ops.cloudflare.operations import put_secret

    world.wrangler("deploy", "--message", "good")
    good = list_deployments(world.client, "api-worker")[0]["versions"][0]["version_id"]
    main = world.worker / "src" / "index.js"
    before = main.read_text(encoding="utf-8")
    try:
        main.write_text(before + "\nglobalThis.badDeploy = true;\n", encoding="utf-8")
        world.wrangler("deploy", "--message", "bad")
    finally:
        main.write_text(before, encoding="utf-8")
    bad = list_versions(world.client, "api-worker")[0]["id"]
    world.wrangler("rollback", good, "--yes", "--message", "back to good")
    assert _content(world, good) != _content(world, bad)

    world.wrangler("versions", "secret", "put", "AFTER_ROLLBACK", input="w\n")
    wranglers = list_versions(world.client, "api-worker")[0]["id"]
    assert _content(world, wranglers) == _content(world, bad)  # wrangler builds on the latest: the bad code

    ours = put_secret(world.client, "api-worker", "AFTER_ROLLBACK", "o")
    assert ours["built_from"] == good and _content(world, ours["version_id"]) == _content(world, good)
    assert list_deployments(world.client, "api-worker")[0]["versions"][0]["version_id"] == ours["version_id"]
