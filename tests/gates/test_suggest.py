"""binding-check --fix's suggestion for a binding whose KV id is gone: <worker>-<binding> first, then other exact
titles, then one title ending in -<binding>; several candidates or none is a refusal that says what to run."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from ops.actions.base import Context
from ops.actions.binding_check import BindingCheckAction, BindingCheckArgs
from ops.cloudflare import CloudflareClient, create_kv_namespace
from ops.sandbox.emulator import start_emulator
from ops.targets import Target

ACCOUNT, TOKEN = "5a4db0c5000000000000000000000000", "sandbox-local-token"
GONE = "0000000000000000000000000000dead"
CONFIG = f"""name = "api-worker"
main = "src/index.ts"

[[kv_namespaces]]
binding = "CACHE"  # the book cache
id = "{GONE}"

[env.production]
[[env.production.kv_namespaces]]
binding = "CACHE"
id = "{GONE}"
"""


@pytest.fixture
def account(tmp_path: Path) -> Iterator[tuple[Any, CloudflareClient]]:
    """The loopback Cloudflare API emulator with an empty account."""
    handle = start_emulator(tmp_path / "state.json", seed={"account_id": ACCOUNT}, token=TOKEN)
    client = CloudflareClient(ACCOUNT, TOKEN, base_url=handle.api_base_url)
    yield handle, client
    client.close()
    handle.stop()


def check(account: tuple[Any, CloudflareClient], tmp_path: Path, titles: list[str], env: str = "") -> dict[str, Any]:
    handle, client = account
    made = {title: create_kv_namespace(client, title)["id"] for title in titles}
    config = tmp_path / "wrangler.toml"
    config.write_text(CONFIG, encoding="utf-8")
    target = Target("t", handle.api_base_url, ACCOUNT, "api-worker", "http://127.0.0.1:9", TOKEN, root=tmp_path)
    ctx = Context(target, dry_run=True)
    try:
        outputs = BindingCheckAction().run(BindingCheckArgs(config=str(config), env=env, fix=True), ctx)
    finally:
        ctx.close()
    return {"made": made, **outputs}


def test_the_worker_dash_binding_title_wins_over_other_matches(account: Any, tmp_path: Path) -> None:
    done = check(account, tmp_path, ["api-worker-CACHE", "cache", "books-cache"])
    assert done["fix_set"] == {"kv_namespaces.0.id": done["made"]["api-worker-CACHE"]} and done["fix_now"] is True
    assert 'the KV namespace "api-worker-CACHE"' in done["findings"][0] and "(titled api-worker-CACHE)" in done["findings"][0]


def test_an_env_prefers_its_own_worker_name_then_wrangler_4s_env_title(account: Any, tmp_path: Path) -> None:
    done = check(account, tmp_path, ["api-worker-production-CACHE", "api-worker-CACHE"], env="production")
    assert done["fix_set"]["env.production.kv_namespaces.0.id"] == done["made"]["api-worker-production-CACHE"]


def test_one_exact_title_is_used_when_the_worker_title_is_absent(account: Any, tmp_path: Path) -> None:
    done = check(account, tmp_path, ["production-CACHE", "other"], env="production")
    assert done["fix_set"]["env.production.kv_namespaces.0.id"] == done["made"]["production-CACHE"]
    assert "(an exact title)" in " ".join(done["findings"])


def test_one_title_ending_in_the_binding_is_used(account: Any, tmp_path: Path) -> None:
    done = check(account, tmp_path, ["books-cache", "sessions"])  # the sandbox's binding-mismatch
    assert done["fix_set"] == {"kv_namespaces.0.id": done["made"]["books-cache"]}


def test_two_candidates_are_a_refusal_naming_both_and_what_to_run(account: Any, tmp_path: Path) -> None:
    done = check(account, tmp_path, ["books-cache", "shop-cache"])
    assert done["fix_set"] == {} and done["fixable"] is False and done["fix_now"] is False
    assert done["findings"][0].endswith(
        f'KV namespace {GONE} bound as "CACHE" does not exist in the account; 2 KV namespaces could be the one meant '
        '(a title ending in -cache: "books-cache", "shop-cache"), so none is guessed: put the right id in the config by '
        "hand (wrangler kv namespace list)")


def test_no_candidate_is_a_refusal_that_says_how_to_create_one(account: Any, tmp_path: Path) -> None:
    done = check(account, tmp_path, ["sessions", "cash"], env="production")  # "cash" is close, and still not guessed
    assert done["fix_set"] == {} and done["fixable"] is False
    assert done["findings"][-1].endswith(
        "no KV namespace's title names it: create one (wrangler kv namespace create CACHE --env production) and put its "
        "id in the config, or put the right id in by hand (wrangler kv namespace list)")
