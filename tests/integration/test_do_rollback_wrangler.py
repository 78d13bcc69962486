"""A Worker with a Durable Object class and migrations, deployed and rolled back with the real wrangler.

Cloudflare refuses a rollback across a Durable Object migration (developers.cloudflare.com/
workers/configuration/versions-and-deployments/rollbacks/, Limits); the emulator refuses it too,
and our read-only ``versions.migrations`` operation sees it coming from the versions wrangler made.
Both supported wranglers (see ``wranglers``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from ops.cloudflare.operations import OPERATIONS
from tests.integration.test_wrangler_emulator import World
from tests.integration.wranglers import OLDEST, PINNED, VERSIONS, wrangler_bin

pytestmark = pytest.mark.skipif(not wrangler_bin(PINNED).exists(),
                                reason="npm wrangler is not installed (./scripts/bootstrap; CI installs it)")
CONFIG = ('name = "counter"\nmain = "src/index.js"\ncompatibility_date = "2026-04-01"\n\n'
          '[[durable_objects.bindings]]\nname = "COUNTER"\nclass_name = "Counter"\n\n'
          '[[migrations]]\ntag = "v1"\nnew_classes = ["Counter"]\n')


@pytest.fixture(params=VERSIONS, ids=[f"wrangler-{v}" for v in VERSIONS])
def world(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[World]:
    w = World(tmp_path, request.param)
    w.worker = tmp_path / "counter"
    (w.worker / "src").mkdir(parents=True)
    (w.worker / "src" / "index.js").write_text(
        "export class Counter { constructor(state) { this.state = state } async fetch() { return new Response('1') } }\n"
        "export default { fetch(request, env) { return env.COUNTER.get(env.COUNTER.idFromName('a')).fetch(request) } }\n")
    (w.worker / "wrangler.toml").write_text(CONFIG)
    yield w
    w.client.close()
    w.handle.stop()


def _run(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(world.bin), *args], cwd=world.worker, env=world.env, capture_output=True, text=True,
                          timeout=120)


def _deployed_version(out: str) -> str:
    return out.split("Current Version ID: ")[1].split()[0]


def test_a_rollback_across_a_migration_is_refused_and_seen_coming(world: World) -> None:
    before = _deployed_version(world.wrangler("deploy"))
    (world.worker / "wrangler.toml").write_text(CONFIG + '\n[[migrations]]\ntag = "v2"\nnew_sqlite_classes = []\n')
    uploaded = _run(world, "versions", "upload")  # a migration is applied by a deploy, never by a version upload
    said = uploaded.stdout + uploaded.stderr
    # 4.86 sends it and the API refuses (10211); 4.164 refuses first, having read the Worker's migration tag
    assert uploaded.returncode != 0
    assert ("[code: 10211]" if world.version == OLDEST else "pending Durable Object migration") in said, said
    migrated = _deployed_version(world.wrangler("deploy"))  # sends old_tag v1, new_tag v2

    out = world.wrangler("versions", "view", before, "--json")
    viewed = json.loads(out[out.index("{"):])
    assert viewed["resources"]["script_runtime"]["migration_tag"] == "v1"
    check = OPERATIONS["versions.migrations"].call(world.client, script="counter", current_version=migrated,
                                                   target_version=before)
    assert {k: check[k] for k in ("current_migration_tag", "target_migration_tag", "crosses_migration")} == {
        "current_migration_tag": "v2", "target_migration_tag": "v1", "crosses_migration": True}
    assert check["compared"].startswith("the versions' migration tags differ (current 'v2', target 'v1')")

    refused = _run(world, "rollback", "--yes", "--message", "back")
    assert refused.returncode != 0
    assert "a Durable Object migration has occurred since it" in refused.stdout + refused.stderr
    assert "[code: 10226]" in refused.stdout + refused.stderr

    world.wrangler("deploy")
    assert "has been deployed to 100% of traffic" in world.wrangler("rollback", migrated, "--yes", "--message", "back")
    assert OPERATIONS["worker.state"].call(world.client, script="counter")["current_version_id"] == migrated
