"""A target in a Worker's own repository: its wrangler env, its config found as wrangler finds it, no silent defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.errors import InputError
from ops.targets import load_target
from testing.workspace import REPO

ENV = {"CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_ACCOUNT_ID": "a" * 32, "OPS_WORKER_NAME": "api-worker-production",
       "OPS_WORKER_URL": "https://books.example.com"}


def worker_repo(tmp_path: Path, targets: str) -> Path:
    (tmp_path / "wrangler.jsonc").write_text('{"name": "api-worker", // the Worker\n "main": "src/index.ts",\n'
                                             ' "env": {"staging": {}, "production": {}}}\n', encoding="utf-8")
    ops = tmp_path / "ops"
    ops.mkdir()
    (ops / "targets.toml").write_text(targets, encoding="utf-8")
    return ops / "targets.toml"


PRODUCTION = (REPO / "targets.toml").read_text(encoding="utf-8")


def test_the_shipped_production_target_names_its_env_and_the_config_wrangler_would_use(tmp_path: Path) -> None:
    file = worker_repo(tmp_path, PRODUCTION)
    target = load_target("production", path=file, environ=ENV)
    assert target.wrangler_environment == "production"
    assert target.wrangler_args() == ["--env", "production"]
    assert target.wrangler_config == tmp_path / "wrangler.jsonc"  # from the targets file's folder upward
    assert target.scope()["wrangler_environment"] == "production"
    assert target.env == {}  # a string env names the wrangler environment, not variables


def test_a_target_without_a_worker_name_names_the_variable_to_set(tmp_path: Path) -> None:
    file = worker_repo(tmp_path, PRODUCTION)
    with pytest.raises(InputError) as caught:
        load_target("production", path=file, environ={k: v for k, v in ENV.items() if k != "OPS_WORKER_NAME"})
    lines = PRODUCTION.splitlines()
    table = lines.index("[targets.production]")
    line = next(i for i, text in enumerate(lines[table:], table + 1) if text.startswith("worker = "))
    assert str(caught.value) == (f"{file}:{line}: target 'production' has no worker: set the environment variable "
                                 "OPS_WORKER_NAME (targets.toml reads it from there)")


def test_every_shipped_target_names_only_files_that_exist_or_that_sandbox_up_makes(tmp_path: Path) -> None:
    import shutil
    import tomllib

    shipped = tomllib.loads((REPO / "targets.toml").read_text(encoding="utf-8"))["targets"]
    for name, raw in shipped.items():
        for key in ("wrangler_config", "popular_keys"):
            value = raw.get(key)
            if isinstance(value, str) and not value.startswith(".sandbox/"):
                assert (REPO / value).exists(), f"target {name} names {value}, which does not exist"
    copy = tmp_path / "targets.toml"
    shutil.copy(REPO / "targets.toml", copy)  # a fresh clone: no .sandbox/ yet
    with pytest.raises(InputError, match=r"targets.toml: no target named 'sandbox' \(known: production\); "
                                         r"`inv sandbox.up` writes the sandbox's targets into"):
        load_target("sandbox", path=copy, environ=ENV)


def test_a_named_file_that_does_not_exist_is_a_located_error(tmp_path: Path) -> None:
    file = worker_repo(tmp_path, PRODUCTION + 'wrangler_config = "wrangler.toml"\n')
    with pytest.raises(InputError, match=r"targets.toml:\d+: target 'production' names wrangler_config = 'wrangler.toml', "
                                         r"which does not exist"):
        load_target("production", path=file, environ=ENV)


def test_the_env_can_come_from_the_environment_and_variables_stay_a_table(tmp_path: Path) -> None:
    file = worker_repo(tmp_path, '[targets.staging]\napi_base_url = "http://127.0.0.1:1/client/v4"\naccount_id = "a"\n'
                                 'token = "t"\nworker = "api-worker-staging"\nworker_url = "http://127.0.0.1:2"\n'
                                 'wrangler_env = { env = "OPS_WRANGLER_ENV", default = "staging" }\n'
                                 'env = { CACHE_WARM_SECRET = "x" }\n')
    target = load_target("staging", path=file, environ={})
    assert (target.wrangler_environment, target.env) == ("staging", {"CACHE_WARM_SECRET": "x"})
    assert load_target("staging", path=file, environ={"OPS_WRANGLER_ENV": "canary"}).wrangler_environment == "canary"


@pytest.mark.parametrize("text, message", [
    ('[targets.x]\nworker = "w\n', "targets.toml:2:12: $: Illegal character '\\n'; fix the TOML syntax"),
    (b'[targets.x]\nworker = "caf\xe9"\n', "targets.toml:2:14: $: invalid UTF-8 (byte 0xe9); save the targets file as UTF-8"),
])
def test_an_unreadable_targets_file_is_a_located_document_error(tmp_path: Path, text: str | bytes, message: str) -> None:
    file = tmp_path / "targets.toml"
    file.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(InputError) as caught:
        load_target("x", path=file, environ=ENV)
    assert str(caught.value) == f"{tmp_path}/{message}"
    assert caught.value.exit_code == 2


def test_a_worker_repo_without_a_targets_file_finds_the_one_sandbox_up_wrote(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from ops.targets import find_targets_file

    monkeypatch.delenv("OPS_TARGETS_FILE", raising=False)
    (tmp_path / "src").mkdir()
    (tmp_path / ".sandbox").mkdir()
    (tmp_path / ".sandbox" / "targets.toml").write_text("", encoding="utf-8")
    assert find_targets_file(tmp_path / "src") == tmp_path / ".sandbox" / "targets.toml"
    (tmp_path / "targets.toml").write_text("", encoding="utf-8")  # the team's own file wins beside it
    assert find_targets_file(tmp_path / "src") == tmp_path / "targets.toml"


def test_a_production_target_without_its_account_points_at_the_sandbox_started_here(tmp_path: Path) -> None:
    file = worker_repo(tmp_path, PRODUCTION)
    (file.parent / ".sandbox").mkdir()
    (file.parent / ".sandbox" / "targets.toml").write_text('[targets.sandbox-own]\nworker = "api-worker"\n', encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_target("production", path=file, environ={k: v for k, v in ENV.items() if k != "CLOUDFLARE_ACCOUNT_ID"})
    assert "has no account_id: set the environment variable CLOUDFLARE_ACCOUNT_ID" in str(caught.value)
    assert str(caught.value).endswith(f"; or rehearse on the sandbox started here: --target sandbox-own "
                                      f"(from {file.parent / '.sandbox' / 'targets.toml'})")
