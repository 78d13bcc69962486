"""ops.documents.wrangler_config: the config wrangler uses for an env (validation.ts: inheritable / notInheritable)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.actions.base import Context
from ops.actions.edit import EditAction, EditArgs
from ops.actions.provider_order import ProviderOrderArgs, _from_config
from ops.documents.problem import DocumentError
from ops.documents.wrangler_config import TOP, effective, load_config
from ops.targets import Target

CONFIG = """name = "api-worker"
main = "src/index.ts"
compatibility_date = "2026-01-01"
keep_vars = true

[vars]
PROVIDER_ORDER = "a,b"

[[kv_namespaces]]
binding = "CACHE"
id = "0123456789abcdef0123456789abcdef"

[env.staging]
name = "books-staging"
compatibility_date = "2026-02-02"

[env.production]
vars = { PROVIDER_ORDER = "b,a" }
kv_namespaces = [{ binding = "CACHE", id = "fedcba9876543210fedcba9876543210" }]
"""


def write(tmp_path: Path, text: str = CONFIG, name: str = "wrangler.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_inheritable_fields_come_from_the_top_and_bindings_do_not(tmp_path: Path) -> None:
    config = load_config(write(tmp_path))
    production = effective(config, "production")
    assert production.data["main"] == "src/index.ts" and production.data["compatibility_date"] == "2026-01-01"
    assert production.data["keep_vars"] is True  # not an environment field: read from the top for every env
    assert production.vars() == {"PROVIDER_ORDER": "b,a"}
    assert [(b.name, b.resource, config.where(b.key)) for b in production.bindings()] == [
        ("CACHE", "fedcba9876543210fedcba9876543210", (19, 39))]
    staging = effective(config, "staging")
    assert staging.data["compatibility_date"] == "2026-02-02"  # the env's own value wins
    assert staging.vars() == {} and staging.bindings() == []  # vars and bindings are not inherited
    assert staging.where["compatibility_date"] == ("env", "staging", "compatibility_date")
    assert effective(config, TOP).bindings()[0].resource == "0123456789abcdef0123456789abcdef"


def test_the_worker_name_is_name_dash_env_unless_the_env_names_it(tmp_path: Path) -> None:
    config = load_config(write(tmp_path))
    assert effective(config, None).worker_name == "api-worker"
    assert effective(config, "production").worker_name == "api-worker-production"
    assert effective(config, "staging").worker_name == "books-staging"


def test_a_json_null_in_an_env_inherits_like_an_absent_field(tmp_path: Path) -> None:
    path = write(tmp_path, '{"name": "w", "main": "a.js", "env": {"dev": {"main": null}}}', "wrangler.json")
    assert effective(load_config(path), "dev").data["main"] == "a.js"  # rawEnv[field] ?? topLevelEnv[field]


def test_an_env_a_config_without_envs_does_not_define_is_the_top_level_renamed(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG.split("[env.staging]")[0])
    resolved = effective(load_config(path), "production")
    assert resolved.worker_name == "api-worker-production" and resolved.prefix == ()
    assert resolved.kv_namespace("CACHE") == "0123456789abcdef0123456789abcdef"  # bindings included, as in wrangler


def test_an_env_the_config_does_not_define_beside_others_is_a_located_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError) as caught:
        effective(load_config(write(tmp_path)), "prod")
    assert str(caught.value) == (f"{tmp_path}/wrangler.toml:13:1: $.env: no environment 'prod' in the wrangler config "
                                 "(it has: production, staging); name one of them, or add [env.prod]")
    assert caught.value.exit_code == 2


def test_a_missing_kv_binding_names_what_is_bound_and_where(tmp_path: Path) -> None:
    config = load_config(write(tmp_path))
    with pytest.raises(DocumentError) as caught:
        effective(config, "staging").kv_namespace("CACHE")
    assert str(caught.value) == (f"{tmp_path}/wrangler.toml:13:1: $.env.staging: no KV namespace bound as 'CACHE' in "
                                 "env 'staging' (bound: none); check the binding name (an environment does not inherit "
                                 "the top level's kv_namespaces: bind it under [env.<name>])")
    with pytest.raises(DocumentError, match=r"wrangler.toml:9:1: \$.kv_namespaces: no KV namespace bound as 'CACHES' in "
                                            r"the top level \(bound: CACHE\)"):
        effective(config, None).kv_namespace("CACHES")


def _target(root: Path, env: str) -> Target:
    return Target("t", "http://127.0.0.1:9", "a" * 32, "api-worker", "http://127.0.0.1:9", "x", root=root,
                  wrangler_environment=env)


def test_edit_writes_where_wrangler_reads_the_env(tmp_path: Path) -> None:
    path = write(tmp_path)
    target = _target(tmp_path, "production")
    EditAction().run(EditArgs(file="wrangler.toml", set={"vars.PROVIDER_ORDER": "a,b"}, env="production"),
                     Context(target, dry_run=False))
    assert load_config(path).data["env"]["production"]["vars"] == {"PROVIDER_ORDER": "a,b"}
    with pytest.raises(DocumentError, match="no environment 'prod'"):
        EditAction().run(EditArgs(file="wrangler.toml", set={"vars.X": "1"}, env="prod"), Context(target, dry_run=False))
    flat = write(tmp_path, CONFIG.split("[env.staging]")[0], "flat.toml")
    EditAction().run(EditArgs(file="flat.toml", set={"vars.PROVIDER_ORDER": "b,a"}, env="production"),
                     Context(target, dry_run=False))
    assert load_config(flat).data["vars"] == {"PROVIDER_ORDER": "b,a"}  # no envs: wrangler deploys the top level


def test_provider_order_reads_the_current_order_from_the_targets_env(tmp_path: Path) -> None:
    args = ProviderOrderArgs(url="http://127.0.0.1:9", order="a,b", config=str(write(tmp_path)))
    assert _from_config(args, "production")["current"] == ["b", "a"]
    assert _from_config(args, "")["current"] == ["a", "b"]
