"""A remediation's settings come from the Worker's own wrangler config: defaults it names, names it does not refused.

Over the shipped specs and configs written here in every form wrangler reads (toml, json, jsonc, an env).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ops.documents.worker_resources import read_resources
from ops.engine.catalog import discover
from ops.engine.config_params import settle
from ops.engine.diagnose import _default_params, _lacking
from ops.engine.model import Spec
from ops.errors import InputError
from ops.targets import Target

from testing.workspace import REPO

TOML = """\
name = "greeter"
main = "src/index.js"

[[queues.consumers]]
queue = "top-jobs"

[env.staging]
kv_namespaces = [{ binding = "NOTES", id = "5ca1ab1e000000000000000000000001" }]
d1_databases = [{ binding = "DB", database_name = "notes", database_id = "d1d1d1d1-0000-4000-8000-000000000001" }]
r2_buckets = [{ binding = "FILES", bucket_name = "greeter-files" }]
secrets = { required = ["API_KEY"] }

[[env.staging.queues.producers]]
binding = "JOBS"
queue = "greeter-jobs"

[[env.staging.queues.consumers]]
queue = "greeter-jobs"
dead_letter_queue = "greeter-dlq"

[[env.staging.queues.consumers]]
queue = "greeter-audit"
"""

JSONC = """\
// one consumer, no dead-letter queue
{
  "name": "greeter",
  "main": "src/index.js",
  "queues": { "consumers": [{ "queue": "only-jobs" }] }, // trailing comma below, as wrangler allows
}
"""


def spec(name: str) -> Spec:
    [entry] = [e for e in discover(REPO / "remediations") if e.name == name]
    return Spec.model_validate(entry.data)


def target(config: Path, env: str = "", **more: Any) -> Target:
    return Target(name="t", api_base_url="http://127.0.0.1:9/client/v4", account_id="a" * 32, worker="greeter",
                  worker_url="http://127.0.0.1:9", token="x", wrangler_config=config, wrangler_environment=env,
                  source=config.parent / "targets.toml", **more)


def settled(name: str, t: Target, **given: Any) -> dict[str, Any]:
    found = settle(spec(name), t, given, {})
    return {**found.values, **{k: f"unset: {v}" for k, v in found.unset.items()}}


@pytest.fixture
def toml(tmp_path: Path) -> Path:
    path = tmp_path / "wrangler.toml"
    path.write_text(TOML, encoding="utf-8")
    return path


def test_the_resources_are_the_envs_own(toml: Path) -> None:
    staging = read_resources(toml, "staging")
    assert staging.consumers == {"greeter-jobs": "greeter-dlq", "greeter-audit": ""}
    assert staging.producers == ("greeter-jobs",) and staging.secrets == ("API_KEY",)
    assert staging.resources("d1-database") == ["DB"] and staging.names("d1-database") == [
        "DB", "notes", "d1d1d1d1-0000-4000-8000-000000000001"]
    assert staging.resources("kv-namespace") == ["NOTES"] and staging.resources("r2-bucket") == ["FILES"]
    top = read_resources(toml, "")
    assert top.consumers == {"top-jobs": ""} and top.secrets is None and top.resources("kv-namespace") == []


def test_the_only_consumed_queue_is_the_default_and_its_dead_letter_queue_follows(tmp_path: Path) -> None:
    path = tmp_path / "wrangler.jsonc"
    path.write_text(JSONC, encoding="utf-8")
    assert settled("queue-redeploy", target(path)) == {
        "queue": "only-jobs", "dead_letter_queue": f"unset: {path} (top level) gives the consumer of 'only-jobs' no "
                                                   "dead-letter queue"}


def test_a_queue_flag_takes_the_dead_letter_queue_the_config_gives_that_consumer(toml: Path) -> None:
    t = target(toml, "staging")
    assert settled("queue-redeploy", t, queue="greeter-jobs")["dead_letter_queue"] == "greeter-dlq"
    assert settled("queue-redeploy", t, queue="greeter-audit")["dead_letter_queue"].startswith("unset: ")
    # Two consumers: no default, and the reason names both and the flag to pass.
    assert settled("queue-redeploy", t)["queue"] == (
        f"unset: {toml} [env.staging] names several (greeter-jobs, greeter-audit): pass --queue, or set queue in "
        "[targets.t.params.queue-redeploy]")


def test_a_name_the_config_does_not_have_is_refused_naming_the_config(toml: Path) -> None:
    t = target(toml, "staging")
    with pytest.raises(InputError) as caught:
        settle(spec("queue-redeploy"), t, {"queue": "enrichment-jobs"}, {})
    assert str(caught.value) == (f"--queue: 'enrichment-jobs' is no queue it consumes (queues.consumers) of the Worker: "
                                 f"{toml} [env.staging] names greeter-jobs, greeter-audit; pass one of them with --queue, "
                                 "or add it to the config first")
    with pytest.raises(InputError, match=r"--dead-letter-queue: 'enrichment-dlq' is not the dead-letter queue of queue "
                                         r"'greeter-jobs': .* gives it 'greeter-dlq'"):
        settle(spec("queue-redeploy"), t, {"queue": "greeter-jobs", "dead_letter_queue": "enrichment-dlq"}, {})
    with pytest.raises(InputError, match=r"targets.toml:3: .*'USERS' is no D1 database"):
        settle(spec("jwt-rotation"), t, {"name": "API_KEY", "users_database": "USERS"},
               {"users_database": "targets.toml:3: targets.t.params.jwt-rotation.users_database"})


def test_the_targets_dead_letter_queue_yields_to_a_queue_flag(toml: Path) -> None:
    """A target's DLQ belongs to the target's queue: `--queue greeter-audit` gets that consumer's (none)."""
    found = settle(spec("queue-redeploy"), target(toml, "staging"),
                   {"queue": "greeter-audit", "dead_letter_queue": "greeter-dlq"}, {"dead_letter_queue": "targets.toml:9"})
    assert found.values["dead_letter_queue"] == "" and "no dead-letter queue" in found.unset["dead_letter_queue"]


def test_secrets_come_from_secrets_required_and_the_targets_list(toml: Path) -> None:
    assert settled("secret-rotation", target(toml, "staging"))["name"] == "API_KEY"
    both = target(toml, "staging", secrets=("JWT_SECRET",))
    assert settled("secret-rotation", both)["name"].startswith("unset: ")  # two: the run asks for --name
    with pytest.raises(InputError, match="'JWT_SECRT' is no secret"):
        settle(spec("secret-rotation"), both, {"name": "JWT_SECRT"}, {})
    # A config that declares no secrets, and a target that lists none: any name is taken, none is invented.
    assert settled("secret-rotation", target(toml))["name"].startswith(f"unset: {toml} (top level) declares no secrets")
    assert settle(spec("secret-rotation"), target(toml), {"name": "ANYTHING"}, {}).values == {}


def test_without_a_config_values_are_taken_as_given(tmp_path: Path) -> None:
    assert settle(spec("queue-redeploy"), target(tmp_path / "absent.toml"), {"queue": "x"}, {}).values == {}


def test_diagnosis_skips_what_the_config_makes_meaningless_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "wrangler.toml"
    path.write_text('name = "greeter"\nmain = "src/index.js"\n', encoding="utf-8")
    t = target(path)
    queue = spec("queue-redeploy")
    params, unset = _default_params(queue, t)
    backlog = next(p for p in queue.probes if p.name == "backlog")
    assert _lacking(queue, backlog, params, unset, t) == f"it reads params.queue: {path} (top level) names no queue it consumes (queues.consumers)"
    rotation = spec("secret-rotation")
    params, unset = _default_params(rotation, t)
    secrets = next(p for p in rotation.probes if p.name == "required-secrets")
    assert _lacking(rotation, secrets, params, unset, t) == (
        "the Worker needs no secrets (none in its config's secrets.required or the target's secrets list) on target t "
        "(its condition: `worker.secrets`)")
    # Named by the target (or required by the config): the probe runs.
    needed = target(path, secrets=("JWT_SECRET",))
    assert _lacking(rotation, secrets, *_default_params(rotation, needed), needed) == ""


def test_a_config_that_cannot_be_read_stops_no_run_that_never_reads_it(tmp_path: Path) -> None:
    from ops.engine.state import scope_for

    path = tmp_path / "wrangler.toml"
    path.write_text("name = [unclosed\n", encoding="utf-8")
    assert scope_for(target(path, secrets=("API_KEY",)), {})["worker"]["secrets"]["API_KEY"] is True
    assert settle(spec("rollback"), target(path), {}, {}).values == {}


def test_the_cli_refuses_a_queue_the_config_lacks_with_exit_2_and_no_traceback(workspace: Any) -> None:
    (workspace.root / "wrangler.toml").write_text(TOML, encoding="utf-8")
    workspace.add_spec(REPO / "remediations" / "queue-redeploy.yaml")
    done = workspace.inv("remediate.queue-redeploy", "--queue", "enrichment-jobs", "--dry-run")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert (f"error: --queue: 'enrichment-jobs' is no queue it consumes (queues.consumers) of the Worker: "
            f"{workspace.root / 'wrangler.toml'} (top level) names top-jobs;") in done.stderr
