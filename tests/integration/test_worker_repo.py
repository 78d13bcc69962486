"""The tool installed into a team's own Worker repository, rehearsing that Worker on the sandbox.

A Worker repository is built in a temporary folder: its own wrangler.toml with
[env.staging] and [env.production] (different names and vars), src/index.js, a
targets.toml and .dev.vars.staging. The tool is installed from this checkout into a
fresh venv, non-editable (testing/worker_repo.py). In that
repository, `cfw-remedy` deploys the staging Worker to the emulator with the current
pinned wrangler, breaks it with a bad deploy, rolls it back (verified) and stops; the
team's files are never touched: `git status` shows only `.sandbox/`.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from ops.sandbox.ports import Ports
from testing.worker_repo import clean_env, install

from testing.workspace import REPO

WRANGLER = REPO / "node_modules" / ".bin" / "wrangler"
pytestmark = [pytest.mark.sandbox,
              pytest.mark.skipif(not WRANGLER.exists(), reason="the npm parts are not installed (./scripts/bootstrap)")]

WRANGLER_TOML = """\
name = "greeter"
main = "src/index.js"
compatibility_date = "2026-04-01"

[vars]
GREETING = "hello from the top level"

[env.staging]
vars = { GREETING = "hello from staging" }
kv_namespaces = [{ binding = "NOTES", id = "5ca1ab1e000000000000000000000001" }]
d1_databases = [{ binding = "DB", database_name = "greeter-staging", database_id = "0e0e0e0e-0000-4000-8000-0000000000aa" }]

[[env.staging.queues.producers]]
binding = "JOBS"
queue = "greeter-jobs-staging"

[[env.staging.queues.consumers]]
queue = "greeter-jobs-staging"
dead_letter_queue = "greeter-dlq-staging"

[env.production]
name = "greeter-prod"
vars = { GREETING = "hello from production" }
"""

# A class default export (WorkerEntrypoint): the sandbox's entry shim constructs it per event, as workerd does.
INDEX_JS = """\
import { WorkerEntrypoint } from "cloudflare:workers";

export default class Greeter extends WorkerEntrypoint {
  async fetch(request) {
    if (new URL(request.url).pathname === "/private") {
      const ok = request.headers.get("authorization") === `Bearer ${this.env.API_KEY}`;
      return new Response(ok ? "ok\\n" : "no\\n", { status: ok ? 200 : 401 });
    }
    return Response.json({ greeting: this.env.GREETING });
  }

  async queue(batch) {
    for (const message of batch.messages) message.ack();
  }
}
"""


TARGETS_TOML = """\
default = "production"

[targets.production]
api_base_url = "https://api.cloudflare.com/client/v4"
account_id = { env = "CLOUDFLARE_ACCOUNT_ID" }
token = { env = "CLOUDFLARE_API_TOKEN" }
worker = "greeter-prod"
worker_url = "https://greeter.example.com"
env = "production"
"""


def run(argv: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv with the tool installed from a copy of this checkout (non-editable): its bin folder."""
    started = time.monotonic()
    bin_ = install(tmp_path_factory.mktemp("install"))
    print(f"installed the tool into a fresh venv in {time.monotonic() - started:.1f}s")
    yield bin_


def worker_repo(root: Path) -> Path:
    repo = root / "greeter"
    (repo / "src").mkdir(parents=True)
    (repo / "wrangler.toml").write_text(WRANGLER_TOML, encoding="utf-8")
    (repo / "src" / "index.js").write_text(INDEX_JS, encoding="utf-8")
    (repo / "targets.toml").write_text(TARGETS_TOML, encoding="utf-8")
    (repo / ".dev.vars.staging").write_text('API_KEY="greeter-staging-key"\n', encoding="utf-8")
    (repo / ".gitignore").write_text(".dev.vars*\nnode_modules/\n", encoding="utf-8")
    for argv in (["git", "init", "-q"], ["git", "add", "-A"],
                 ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "a Worker"]):
        subprocess.run(argv, cwd=repo, check=True, timeout=60)
    return repo


def test_the_installed_tool_rehearses_the_teams_own_worker_on_its_staging_env(installed: Path, tmp_path: Path) -> None:
    repo = worker_repo(tmp_path)
    ports = Ports.choose()
    env = clean_env(OPS_WRANGLER=str(WRANGLER), PATH=f"{installed}{os.pathsep}{os.environ['PATH']}",
                    OPS_SANDBOX_PORT_BASE=str(ports.base))
    cli = str(installed / "cfw-remedy")
    url = f"http://127.0.0.1:{ports['own']}"
    try:
        up = run([cli, "sandbox.up"], repo, env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert "greeter-staging (target sandbox-own; healthy" in up.stdout  # the name wrangler gives [env.staging]
        state = json.loads((repo / ".sandbox" / "emulator" / "state.json").read_text(encoding="utf-8"))
        assert list(state["scripts"]) == ["greeter-staging"]  # the staging env alone, never the production Worker
        assert httpx.get(url, timeout=10).json() == {"greeting": "hello from staging"}
        assert httpx.get(f"{url}/private", headers={"authorization": "Bearer greeter-staging-key"}, timeout=10).status_code == 200

        # A healthy Worker nobody here wrote: nothing wrong, and the probes its config makes meaningless are skipped,
        # each with why (no provider status, no cache metrics), while its own queue and secrets are probed.
        diagnosed = run([cli, "diagnose", "--target", "sandbox-own", "--json"], repo, env)
        assert diagnosed.returncode == 0, diagnosed.stdout + diagnosed.stderr
        report = json.loads(diagnosed.stdout)
        statuses = {(f["remediation"], f["probe"]): f["status"] for f in report["findings"]}
        assert "symptom" not in statuses.values(), report
        assert statuses[("queue-redeploy", "backlog")] == "healthy" and statuses[("queue-redeploy", "dead-letter-queue")] == "healthy"
        assert statuses[("secret-rotation", "required-secrets")] == "healthy"  # API_KEY, from its .dev.vars
        skipped = {(s["remediation"], s["probe"]): s["why"] for s in report["skipped"]}
        assert skipped[("cache-warm", "low-hit-rate")].startswith("it reads params.hit_rate_path, which target sandbox-own")
        assert ("provider-reorder", "slow-providers") in skipped and ("jwt-rotation", "users-table") in skipped
        unknown = {k for k, v in statuses.items() if v == "unknown"}
        assert unknown <= {("rollback", "live-logs")}, report  # a 2-second tail with no traffic is no evidence
        text = run([cli, "diagnose", "--target", "sandbox-own"], repo, env).stdout
        assert "Nothing wrong found." in text and "\nSkipped, as nothing on this Worker makes them meaningful:\n" in text
        assert "  cache-warm/low-hit-rate: it reads params.hit_rate_path" in text
        print(f"diagnose on the team's Worker: {list(statuses.values()).count('healthy')} healthy, {len(unknown)} unknown, "
              f"{len(skipped)} skipped, 0 symptoms")

        # The runbooks' "check" steps, on the team's own Worker: what is live, and one read of its database.
        status = run([cli, "status", "--target", "sandbox-own", "--json"], repo, env)
        assert status.returncode == 0, status.stdout + status.stderr
        live = json.loads(status.stdout)
        assert live["worker"] == "greeter-staging" and "API_KEY" in live["secrets"], live
        assert {(b["binding"], b.get("exists")) for b in live["bindings"] if b["binding"] in ("NOTES", "DB")} == {
            ("NOTES", True), ("DB", True)}, live["bindings"]
        text = run([cli, "status", "--target", "sandbox-own"], repo, env)
        assert text.returncode == 0 and "greeter-staging" in text.stdout, text.stdout + text.stderr
        query = run([cli, "d1.query", "DB", "SELECT count(*) AS n FROM sqlite_master", "--target", "sandbox-own",
                     "--json"], repo, env)
        assert query.returncode == 0, query.stdout + query.stderr
        assert json.loads(query.stdout)["rows"] == [{"n": 0}], query.stdout
        refused = run([cli, "d1.query", "DB", "DELETE FROM notes", "--target", "sandbox-own"], repo, env)
        assert refused.returncode == 2, refused.stdout + refused.stderr

        broke = run([cli, "sandbox.break", "bad-deploy"], repo, env)
        assert broke.returncode == 0 and "(greeter-staging;" in broke.stdout, broke.stdout + broke.stderr
        assert httpx.get(url, timeout=10).status_code == 500

        # The repo's targets.toml has no sandbox-own: it is found in .sandbox/targets.toml, which sandbox.up wrote.
        rollback = run([cli, "remediate.rollback", "--target", "sandbox-own", "--yes", "--json"], repo, env)
        assert rollback.returncode == 0, rollback.stdout + rollback.stderr
        result = json.loads(rollback.stdout)
        assert result["status"] == "ok" and result["message"].startswith("verified: live-is-target, answers")
        assert httpx.get(url, timeout=10).json() == {"greeting": "hello from staging"}

        # Queue recovery on Cloudflare's signals alone (Queues API, GraphQL Analytics): this Worker serves no
        # backlog endpoint of its own, and its target sets no metrics_path.
        detached = run([cli, "sandbox.break", "consumer-detached"], repo, env)
        assert detached.returncode == 0, detached.stdout + detached.stderr
        assert "answered by cfw-remedy remediate.queue-redeploy --queue greeter-jobs-staging)" in detached.stdout
        # A queue this Worker's config does not consume is refused before anything is sent, naming the config.
        other = run([cli, "remediate.queue-redeploy", "--target", "sandbox-own", "--queue", "enrichment-jobs"], repo, env)
        assert other.returncode == 2 and "Traceback" not in other.stderr, other.stdout + other.stderr
        assert ("--queue: 'enrichment-jobs' is no queue it consumes (queues.consumers) of the Worker: "
                f"{repo / '.sandbox' / 'workers' / 'own' / 'wrangler.toml'} [env.staging] names greeter-jobs-staging") in other.stderr
        started = time.monotonic()
        # No --queue: the only queue the config consumes, with the dead-letter queue it gives that consumer.
        redeploy = run([cli, "remediate.queue-redeploy", "--target", "sandbox-own", "--yes", "--json"], repo, env)
        assert redeploy.returncode == 0, redeploy.stdout + redeploy.stderr
        reattached = json.loads(redeploy.stdout)
        assert reattached["status"] == "ok" and reattached["message"].startswith("verified: attached, draining;")
        assert (reattached["params"]["queue"], reattached["params"]["dead_letter_queue"]) == ("greeter-jobs-staging",
                                                                                            "greeter-dlq-staging")
        print(f"queue-redeploy on the team's Worker: {time.monotonic() - started:.1f}s")
    finally:
        down = run([cli, "sandbox.down"], repo, env)
    assert down.returncode == 0, down.stdout + down.stderr
    assert not list((repo / ".sandbox" / "pids").glob("*.pid"))
    status = run(["git", "status", "--porcelain", "--untracked-files=normal"], repo, env).stdout.splitlines()
    # The team's files untouched: only the sandbox's folder and the run's journal, which .gitignore can hold.
    assert status == ["?? .journal/", "?? .sandbox/"]


def test_a_two_line_tasks_py_gives_inv_the_same_tasks(installed: Path, tmp_path: Path) -> None:
    (tmp_path / "tasks.py").write_text("from ops.cli.namespace import tasks_namespace\nns = tasks_namespace()\n",
                                       encoding="utf-8")
    env = clean_env()
    version = run([str(installed / "cfw-remedy"), "--version"], tmp_path, env)
    shipped = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert version.returncode == 0 and version.stdout.strip() == f"cfw-remedy {shipped}"
    by_inv = run([str(installed / "python"), "-m", "invoke", "--list"], tmp_path, env)
    by_script = run([str(installed / "cfw-remedy"), "--list"], tmp_path, env)
    assert by_inv.returncode == 0 and "remediate.rollback" in by_inv.stdout, by_inv.stderr
    assert by_inv.stdout.splitlines()[1:] == by_script.stdout.splitlines()[1:]  # below "Available tasks:" / "Subcommands:"
    where = run([str(installed / "python"), "-c", "import ops.engine.catalog as c; print(c.default_dir())"], tmp_path, env)
    assert "/site-packages/ops/shipped/remediations" in where.stdout  # the shipped specs, from the package
    site = Path(where.stdout.strip()).parents[2]
    assert (site / "ops" / "sandbox" / "manager.py").is_file()  # the sandbox ships; its test harness does not
    assert not (site / "testing").exists() and not (site / "ops" / "sandbox" / "testing.py").exists()


# A Worker of ours with what the sandbox's wrangler dev must carry beyond vars and storage: a SQLite-backed
# Durable Object (its binding and migrations) and static assets (uploaded through the emulator's assets routes).
COUNTER_TOML = """\
name = "counter"
main = "src/index.js"
compatibility_date = "2026-04-01"

[assets]
directory = "./public"
binding = "ASSETS"

[[durable_objects.bindings]]
name = "COUNTER"
class_name = "Counter"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["Counter"]

[triggers]
crons = ["*/5 * * * *"]

[[workflows]]
binding = "TALLY"
name = "counter-tally"
class_name = "Tally"

[[services]]
binding = "SELF"
service = "counter"

[ai]
binding = "AI"
"""

COUNTER_JS = """\
import { DurableObject, WorkflowEntrypoint } from "cloudflare:workers";

export class Tally extends WorkflowEntrypoint {
  async run(event, step) {
    return await step.do("count", async () => 1);
  }
}

export class Counter extends DurableObject {
  async hit() {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS hits (n INTEGER)");
    this.ctx.storage.sql.exec("INSERT INTO hits VALUES (1)");
    return this.ctx.storage.sql.exec("SELECT count(*) AS n FROM hits").one().n;
  }
}

const counter = (env) => env.COUNTER.get(env.COUNTER.idFromName("a"));

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname;
    if (path === "/hit") return Response.json({ hits: await counter(env).hit() });
    if (path === "/via-service") return env.SELF.fetch("http://counter/hit");
    if (path === "/workflow") return Response.json({ id: (await env.TALLY.create()).id });
    return Response.json({ ok: true });
  },
  async scheduled(controller, env) {
    await counter(env).hit();
  },
};
"""


def counter_repo(root: Path) -> Path:
    repo = root / "counter"
    (repo / "src").mkdir(parents=True)
    (repo / "public" / "img").mkdir(parents=True)
    (repo / "wrangler.toml").write_text(COUNTER_TOML, encoding="utf-8")
    (repo / "src" / "index.js").write_text(COUNTER_JS, encoding="utf-8")
    (repo / "public" / "about.html").write_text("<h1>about the counter</h1>\n", encoding="utf-8")
    (repo / "public" / "img" / "dot.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (repo / ".dev.vars").write_text('COUNTER_KEY="k"\n', encoding="utf-8")
    (repo / ".gitignore").write_text(".dev.vars*\nnode_modules\n", encoding="utf-8")
    for argv in (["git", "init", "-q"], ["git", "add", "-A"],
                 ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "a Worker"]):
        subprocess.run(argv, cwd=repo, check=True, timeout=60)
    return repo


def test_a_durable_object_and_static_assets_worker_is_served_broken_and_rolled_back(installed: Path, tmp_path: Path) -> None:
    repo = counter_repo(tmp_path)
    ports = Ports.choose()
    env = clean_env(OPS_WRANGLER=str(WRANGLER), PATH=f"{installed}{os.pathsep}{os.environ['PATH']}",
                    OPS_SANDBOX_PORT_BASE=str(ports.base))
    cli = str(installed / "cfw-remedy")
    url = f"http://127.0.0.1:{ports['own']}"
    (repo / "node_modules").symlink_to(REPO / "node_modules")  # the team's own wrangler, found with no variable set
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    checked = run([cli, "check.all"], repo, {**{k: v for k, v in env.items() if k != "OPS_WRANGLER"}, "TMPDIR": str(scratch)})
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{repo}/node_modules/wrangler" in checked.stdout and list(scratch.glob("bundle-*")) == []  # its build is gone
    try:
        up = run([cli, "sandbox.up"], repo, env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert httpx.get(f"{url}/hit", timeout=10).json() == {"hits": 1}  # the SQLite-backed Durable Object
        assert httpx.get(f"{url}/via-service", timeout=10).json() == {"hits": 2}  # a service binding to itself
        assert httpx.get(f"{url}/__scheduled?cron=*/5+*+*+*+*", timeout=10).text == "Ran scheduled event"  # a cron, now
        assert httpx.get(f"{url}/hit", timeout=10).json() == {"hits": 4}
        assert httpx.get(f"{url}/workflow", timeout=10).json()["id"]  # a Workflow instance, run by wrangler dev
        assert "not rehearsable here: AI (ai): wrangler dev has no local simulation of Workers AI" in up.stdout
        assert httpx.get(f"{url}/about", timeout=10).text == "<h1>about the counter</h1>\n"  # wrangler deploy's assets
        assert httpx.get(f"{url}/img/dot.png", timeout=10).content == b"\x89PNG\r\n\x1a\n"

        broke = run([cli, "sandbox.break", "bad-deploy"], repo, env)
        assert broke.returncode == 0, broke.stdout + broke.stderr
        assert "answered by cfw-remedy remediate.rollback" in broke.stdout  # the name the user ran, not inv
        assert httpx.get(f"{url}/hit", timeout=10).status_code == 500
        status = run([cli, "sandbox.status"], repo, env)  # why it is unhealthy: its answer and the exception
        assert status.returncode == 1 and "it answered 500 on http://" in status.stdout, status.stdout + status.stderr
        assert "first exception: Error: this version is broken (sandbox: bad-deploy)" in status.stdout
        started = time.monotonic()
        rollback = run([cli, "remediate.rollback", "--target", "sandbox-own", "--yes", "--json"], repo, env)
        print(f"rollback of the counter Worker: {time.monotonic() - started:.1f}s")
        assert rollback.returncode == 0, rollback.stdout + rollback.stderr
        assert json.loads(rollback.stdout)["status"] == "ok"
        assert httpx.get(f"{url}/hit", timeout=10).json()["hits"] >= 5  # the object's storage survived the rollback
        assert httpx.get(f"{url}/about", timeout=10).status_code == 200
        # After a rollback the latest version is not deployed, and the API refuses a secret change (10215);
        # the sandbox's own break deletes the secret as the dashboard would.
        missing = run([cli, "sandbox.break", "secret-missing"], repo, env)
        assert missing.returncode == 0 and "delete the secret COUNTER_KEY" in missing.stdout, missing.stdout + missing.stderr
    finally:
        down = run([cli, "sandbox.down"], repo, env)
    assert down.returncode == 0, down.stdout + down.stderr
