"""The sandbox in a team's Worker repository (ops.sandbox.own): which Worker, env, name, secrets and seed it takes.

No Worker runs here; tests/integration/test_worker_repo.py rehearses one end to end on workerd.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.cloudflare import list_kv_namespaces
from ops.cloudflare._api import list_d1, list_r2
from ops.cloudflare.operations import find_queue
from ops.errors import InputError
from ops.sandbox import breaks
from ops.sandbox.emulator import start_emulator
from ops.sandbox.emulator.__main__ import load_seed
from ops.sandbox.layout import with_client
from ops.sandbox.manager import Sandbox
from ops.sandbox.own import is_checkout, own_worker, parse_dotenv, remembered, seed
from ops.sandbox.ports import Ports
from ops.targets import load_target

from testing.workspace import REPO

CONFIG = """\
name = "greeter"
main = "src/index.js"
kv_namespaces = [{ binding = "TOP_ONLY", id = "00000000000000000000000000000009" }]

[env.staging]
kv_namespaces = [{ binding = "NOTES", id = "5ca1ab1e000000000000000000000001" }]
d1_databases = [{ binding = "DB", database_name = "notes-staging", database_id = "0e0e0e0e-0000-4000-8000-000000000001" }]
r2_buckets = [{ binding = "FILES", bucket_name = "files-staging", jurisdiction = "eu" }]
queues.producers = [{ binding = "JOBS", queue = "jobs-staging" }]
queues.consumers = [{ queue = "jobs-staging", dead_letter_queue = "jobs-dlq-staging" }]

[env.production]
name = "greeter-prod"
main = "src/prod.js"
"""


def repo(tmp_path: Path, config: str = CONFIG) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "wrangler.toml").write_text(config, encoding="utf-8")
    (tmp_path / "src" / "index.js").write_text("export default { fetch() { return new Response('ok'); } };\n")
    return tmp_path


def test_staging_is_the_default_env_and_its_name_is_the_one_wrangler_gives_it(tmp_path: Path) -> None:
    spec = own_worker(repo(tmp_path) / "src")  # the config is found upward, as wrangler finds it
    assert (spec.env, spec.script, spec.source, spec.config) == ("staging", "greeter-staging", tmp_path, "wrangler.toml")
    assert spec.wrangler_args() == ["--env", "staging"] and spec.target == "sandbox-own"
    assert own_worker(tmp_path, "production").script == "greeter-prod"  # an env's own name wins
    assert own_worker(tmp_path, "").script == "greeter"  # the top level


def test_a_config_without_staging_is_deployed_at_its_top_level(tmp_path: Path) -> None:
    spec = own_worker(repo(tmp_path, 'name = "solo"\nmain = "src/index.js"\n'))
    assert (spec.env, spec.script) == ("", "solo")


def test_an_unknown_env_names_the_ones_the_config_has(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"wrangler.toml: no \[env.canary\] in the config \(it has: production, staging\)"):
        own_worker(repo(tmp_path), "canary")


def test_secrets_come_from_dev_vars_for_the_env_as_wrangler_dev_reads_them(tmp_path: Path) -> None:
    repo(tmp_path)
    (tmp_path / ".dev.vars").write_text("API_KEY=top\n", encoding="utf-8")
    assert own_worker(tmp_path).secrets == {"API_KEY": "top"}
    (tmp_path / ".dev.vars.staging").write_text("API_KEY='staging'\n", encoding="utf-8")
    assert own_worker(tmp_path).secrets == {"API_KEY": "staging"}  # .dev.vars.<env> wins, and is read alone
    assert own_worker(tmp_path, "production").secrets == {"API_KEY": "top"}


def test_a_named_target_gives_its_env_its_secrets_and_its_health_path(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    repo(tmp_path)
    (tmp_path / ".dev.vars").write_text("API_KEY=local\nOTHER=kept-from-dev-vars-7f3a\n", encoding="utf-8")
    (tmp_path / "targets.toml").write_text(
        '[targets.prod]\napi_base_url = "https://api.cloudflare.com/client/v4"\naccount_id = "a"\ntoken = "t"\n'
        'worker = "greeter-prod"\nworker_url = "https://greeter.example.com"\nwrangler_env = "production"\n'
        'health = { path = "/healthz" }\nenv = { API_KEY = "from-target" }\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPS_TARGETS_FILE", raising=False)
    spec = own_worker(tmp_path, target="prod")
    assert (spec.env, spec.script, spec.health_path) == ("production", "greeter-prod", "/healthz")
    assert spec.secrets == {"API_KEY": "from-target", "OTHER": "kept-from-dev-vars-7f3a"}


def test_without_a_named_target_the_health_path_is_the_default_targets_as_written(tmp_path: Path) -> None:
    repo(tmp_path)
    assert (own_worker(tmp_path).health_path, own_worker(tmp_path).health) == ("/", "")
    # The production target of docs/worker-repo.md, its account and token unset: its health path holds all the same.
    (tmp_path / "targets.toml").write_text(
        'default = "production"\n[targets.production]\naccount_id = { env = "CLOUDFLARE_ACCOUNT_ID" }\n'
        'health = { path = "/message", status = 200 }\n', encoding="utf-8")
    spec = own_worker(tmp_path)
    assert (spec.health_path, spec.health_status) == ("/message", 200)
    assert spec.health == '{ path = "/message", status = 200 }'  # what its sandbox-own target then checks
    (tmp_path / "targets.toml").write_text('default = "production"\n[targets.production]\nhealth = { path = "message" }\n',
                                           encoding="utf-8")
    with pytest.raises(InputError, match=r"targets.toml: targets.production.health.path: a path starting with /"):
        own_worker(tmp_path)
    # While the default is the sandbox's own target (written in .sandbox/), the health a target here declares.
    (tmp_path / "targets.toml").write_text(
        'default = "sandbox-own"\n[targets.staging]\nenv = "staging"\n[targets.production]\n'
        'health = { path = "/hello", status = 204 }\n', encoding="utf-8")
    assert (own_worker(tmp_path).health_path, own_worker(tmp_path).health_status) == ("/hello", 204)


def test_dotenv_values_parse_as_dotenv_16_does() -> None:
    text = ("# a comment\nexport A=plain # trailing\nB='single # kept'\nC=\"two\\nlines\"\nD=`back`\nE=\n"
            "F = spaced \nG='no \\n escape'\n")
    assert parse_dotenv(text) == {"A": "plain", "B": "single # kept", "C": "two\nlines", "D": "back", "E": "",
                                  "F": "spaced", "G": "no \\n escape"}


def test_the_emulator_is_seeded_with_what_the_env_binds_and_nothing_else(tmp_path: Path) -> None:
    made = seed(own_worker(repo(tmp_path)))
    assert made["kv"] == {"5ca1ab1e000000000000000000000001": {"title": "NOTES", "keys": {}}}  # not inherited from the top
    assert sorted(q["queue_name"] for q in made["queues"].values()) == ["jobs-dlq-staging", "jobs-staging"]
    assert [(d["uuid"], d["name"]) for d in made["d1"]] == [("0e0e0e0e-0000-4000-8000-000000000001", "notes-staging")]
    assert [(b["name"], b["jurisdiction"]) for b in made["r2"]] == [("files-staging", "eu")]


def test_the_seed_is_what_the_emulator_serves(tmp_path: Path) -> None:
    from ops.sandbox.emulator import start_emulator
    from ops.sandbox.emulator.__main__ import load_seed
    from ops.sandbox.layout import with_client
    from ops.cloudflare import list_kv_namespaces
    from ops.cloudflare._api import list_d1, list_r2
    sb = Sandbox(REPO, tmp_path / ".sandbox", Ports.choose(), workers=(own_worker(repo(tmp_path)),), secrets={})
    handle = start_emulator(tmp_path / "state.json", port=sb.ports.emulator, seed=load_seed(sb._seed()))
    try:
        assert [ns["id"] for ns in with_client(sb, list_kv_namespaces)] == ["5ca1ab1e000000000000000000000001"]
        assert with_client(sb, lambda c: find_queue(c, "jobs-staging"))["exists"] is True
        assert [d["name"] for d in with_client(sb, list_d1)] == ["notes-staging"]
        assert [(b["name"], b["jurisdiction"]) for b in with_client(sb, list_r2)] == [("files-staging", "eu")]
    finally:
        handle.stop()


def test_in_a_worker_repository_the_sandbox_serves_that_worker_and_remembers_its_env(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo(tmp_path)
    monkeypatch.chdir(tmp_path / "src")
    monkeypatch.delenv("OPS_SANDBOX_HOME", raising=False)
    assert not is_checkout(tmp_path, REPO) and is_checkout(REPO / "examples" / "plain-worker", REPO)
    sb = Sandbox.default(env="production")
    assert [w.script for w in sb.workers] == ["greeter-prod"] and sb.home == tmp_path / ".sandbox"
    assert sb.providers() == [] and sb._seed().endswith("seed.json")
    assert [w.script for w in Sandbox.default().workers] == ["greeter-prod"]  # sandbox.break after sandbox.up --env
    assert remembered(sb.home, "staging", None) == ("staging", None)
    assert [w.script for w in Sandbox.default().workers] == ["greeter-staging"]


def test_its_target_points_at_the_sandboxs_copy_and_names_the_env(tmp_path: Path) -> None:
    spec = own_worker(repo(tmp_path))
    sb = Sandbox(REPO, tmp_path / ".sandbox", Ports.choose(), workers=(spec,), secrets={})
    sb._copy_examples()
    assert (sb.dir_of(spec) / "src" / "index.js").exists() and not (sb.dir_of(spec) / ".sandbox").exists()
    target = load_target(path=sb.targets_file(), environ={})
    assert (target.name, target.worker, target.wrangler_environment, target.root) == ("sandbox-own", "greeter-staging",
                                                                                       "staging", tmp_path)
    assert target.wrangler_config == sb.config_of(spec) and target.health_url == sb.url_of(spec) + "/"


def test_its_target_gets_what_the_config_names_as_params_and_the_dev_vars_as_its_secrets(tmp_path: Path) -> None:
    (repo(tmp_path) / ".dev.vars.staging").write_text('API_KEY="greeter-staging-key"\n', encoding="utf-8")
    spec = own_worker(tmp_path)
    sb = Sandbox(REPO, tmp_path / ".sandbox", Ports.choose(), workers=(spec,), secrets={})
    sb._copy_examples()
    written = sb.targets_file()
    target = load_target(path=written, environ={})
    assert target.params == {"queue-redeploy": {"queue": "jobs-staging", "dead_letter_queue": "jobs-dlq-staging"},
                             "cache-warm": {"kv_binding": "NOTES"}}
    assert target.secrets == ("API_KEY",) and target.secret_names() == ("API_KEY",)
    assert (f"# From {tmp_path / 'wrangler.toml'} [env.staging]: queues consumed: jobs-staging (dead-letter queue "
            "jobs-dlq-staging); produced to: jobs-staging") in written.read_text(encoding="utf-8")
    top = own_worker(tmp_path, "")  # the top level binds one KV namespace and no queue: no queue-redeploy settings
    assert "params.queue-redeploy" not in top.settings and 'kv_binding = "TOP_ONLY"' in top.settings


def test_only_the_scenarios_that_need_no_example_apply_to_a_teams_worker(tmp_path: Path) -> None:
    spec = own_worker(repo(tmp_path))
    assert breaks.find("bad-deploy").worker_for(None, (spec,)) is spec
    assert breaks.find("consumer-detached").worker_for("own", (spec,)) is spec
    with pytest.raises(InputError, match="scenario 'cache-flush' needs an example Worker \\(books, ai\\); on your own Worker: "
                                         "bad-deploy, worker-hang, secret-missing, consumer-detached"):
        breaks.find("cache-flush").worker_for(None, (spec,))
    with pytest.raises(InputError, match="this sandbox serves own, not 'books'"):
        breaks.find("bad-deploy").worker_for("books", (spec,))
    assert breaks.consumed_queue(spec) == "jobs-staging"
    sb = Sandbox(REPO, tmp_path / ".sandbox", Ports.choose(), workers=(spec,), secrets={}, other_secrets={"own": {"B": "2", "A": "1"}})
    assert breaks.find("consumer-detached").flags_for(sb, spec) == ("--queue", "jobs-staging")  # its DLQ: the config's
    assert "secret-missing (secret-rotation --name CACHE_WARM_SECRET --create --value env:CACHE_WARM_SECRET)" in (
        breaks.help_text())  # what a break needs to be answered, with the flags
    assert breaks.find("secret-missing").flags_for(sb, spec) == ("--name", "A", "--create", "--value", "env:A")
    assert breaks.find("bad-deploy").flags_for(sb, spec) == ()


def test_a_bad_deploy_wraps_the_workers_own_entry_in_the_sandboxs_copy(tmp_path: Path) -> None:
    spec = own_worker(repo(tmp_path), "production")
    sb = Sandbox(REPO, tmp_path / ".sandbox", Ports.choose(), workers=(spec,), secrets={})
    sb._copy_examples()
    entry = breaks.wrap_entry(sb, spec, "bad.mjs")
    assert entry.parent == sb.dir_of(spec)
    text = entry.read_text(encoding="utf-8")
    assert 'import * as worker from "./src/prod.js";' in text and 'export * from "./src/prod.js";' in text
    assert sorted(p.name for p in tmp_path.iterdir()) == [".sandbox", "src", "wrangler.toml"]  # the team's files as they were


def test_a_jsonc_config_is_read_and_deployed_by_its_own_name(tmp_path: Path) -> None:
    (tmp_path / "wrangler.jsonc").write_text('{\n  // the Worker\n  "name": "api", "main": "src/index.ts",\n'
                                             '  "env": {"staging": {"vars": {"A": "1"}}},\n}\n', encoding="utf-8")
    spec = own_worker(tmp_path)
    assert (spec.config, spec.env, spec.script) == ("wrangler.jsonc", "staging", "api-staging")
