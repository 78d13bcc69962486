"""`secrets.required`: the secrets a Worker must have (its wrangler config's `secrets.required`, or what its target
names) against the secrets API's list, so that a missing secret is read, never guessed from a Worker's own page."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

import ops.cloudflare as cf
from ops.cloudflare import CloudflareClient
from ops.cloudflare.operations import OPERATIONS
from ops.sandbox.emulator import EmulatorHandle
from tests.cloudflare.uploads import client_of, emulator_in, upload

SCRIPT = "api-worker"
CONFIG = """name = "api-worker"
main = "src/index.js"
[secrets]
required = ["CACHE_WARM_SECRET", "JWT_SECRET"]
[env.staging]
name = "api-worker"
"""


@pytest.fixture
def client(tmp_path: Path) -> Iterator[CloudflareClient]:
    for emulator in emulator_in(tmp_path):
        upload(emulator.api_base_url, SCRIPT)
        yield from client_of(emulator)


def required(client: CloudflareClient, config: Path, **args: str) -> dict[str, object]:
    seen: dict[str, object] = OPERATIONS["secrets.required"].call(client, script=SCRIPT, config=str(config), **args)
    return seen


def test_a_secret_the_config_requires_and_the_worker_lacks_is_named(client: CloudflareClient, tmp_path: Path) -> None:
    config = tmp_path / "wrangler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    cf.put_secret(client, SCRIPT, "JWT_SECRET", "a-value-of-some-length")
    assert required(client, config) == {"required": ["CACHE_WARM_SECRET", "JWT_SECRET"], "present": ["JWT_SECRET"],
                                        "missing": ["CACHE_WARM_SECRET"]}
    assert required(client, config, only="JWT_SECRET")["missing"] == []


def test_an_env_does_not_inherit_the_top_levels_list_and_nothing_required_is_no_evidence(
        client: CloudflareClient, tmp_path: Path) -> None:
    config = tmp_path / "wrangler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    staging = required(client, config, env="staging")
    assert staging == {"required": [], "present": []}  # no `missing`: an expectation on it cannot decide


def test_a_target_names_what_an_older_config_does_not(client: CloudflareClient, tmp_path: Path) -> None:
    config = tmp_path / "wrangler.toml"
    config.write_text('name = "api-worker"\nmain = "src/index.js"\n', encoding="utf-8")
    assert required(client, config, required="secrets.required,API_KEY")["missing"] == ["API_KEY"]
