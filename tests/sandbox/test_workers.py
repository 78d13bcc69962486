"""The sandbox's Workers on real workerd behind their recording proxies: the plain Worker, version_metadata,
bad-deploy and worker-hang on it, secrets wrangler reads back unchanged, and the scenario registry.

They use the session's sandbox (tests/conftest.py), started once for these and the end-to-end tests;
each test leaves its Worker serving a good version (rehearsals reset the sandbox first).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import httpx
import pytest

from ops.cloudflare import create_deployment, put_secret
from ops.cloudflare.analytics import invocations
from ops.sandbox.constants import BOOKS, PLAIN
from ops.sandbox.layout import with_client

from testing.workspace import REPO


@pytest.fixture(scope="module")
def handle(sandbox: Any) -> Iterator[Any]:
    yield sandbox


def examples() -> dict[str, bytes]:
    return {str(p.relative_to(REPO)): p.read_bytes() for p in sorted((REPO / "examples").rglob("*")) if p.is_file()}


EXAMPLES_AT_IMPORT = examples()  # before any sandbox of this run deployed, broke or edited anything


def analytics(handle: Any, script: str, version: str | None, since: datetime) -> dict[str, Any]:
    now = datetime.now(timezone.utc) + timedelta(seconds=1)
    result: dict[str, Any] = with_client(handle.sandbox, lambda c: invocations(c, script, versions=[version] if version else None, since=since, until=now))
    return result


def rollback(handle: Any, spec: Any, version: str) -> None:
    with_client(handle.sandbox, lambda c: create_deployment(c, spec.script, version, message="test: back to the good version"))
    handle.sandbox.wait_live(spec)


def test_the_plain_worker_answers_on_slash_and_its_requests_reach_analytics(handle: Any) -> None:
    sb = handle.sandbox
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    live = sb.live_version(PLAIN)
    for _ in range(5):
        answer = httpx.get(f"{sb.url_of(PLAIN)}/", timeout=10)
        assert answer.status_code == 200 and answer.text.startswith("ok")
        assert not any(k.startswith("x-sandbox") for k in answer.headers)
    assert httpx.get(f"{sb.url_of(PLAIN)}/health", timeout=10).status_code == 404  # no contract beyond "/"
    seen = analytics(handle, PLAIN.script, live, since)
    assert seen["requests"] == 6 and seen["errors"] == 0 and set(seen["by_version"]) == {live}
    assert seen["by_status"] == {"success": 6} and seen["wall_ms"]["tail"] is not None
    handle.set_analytics_lag(300)  # production's delay: nothing recent is visible yet
    try:
        assert analytics(handle, PLAIN.script, live, since)["requests"] == 0
    finally:
        handle.set_analytics_lag(0)


def test_a_secret_with_quotes_and_backslashes_reaches_the_worker_unchanged(handle: Any) -> None:
    sb = handle.sandbox  # before the break tests: after a rollback the latest version is not deployed (10215)
    value = 'k"e\\y\'s $HOME \\n'
    with_client(sb, lambda c: put_secret(c, PLAIN.script, "API_KEY", value))
    sb.wait_live(PLAIN)
    private = f"{sb.dev_url_of(PLAIN)}/private"
    assert httpx.get(private, headers={"Authorization": f"Bearer {value}"}, timeout=10).status_code == 200
    assert httpx.get(private, headers={"Authorization": "Bearer k"}, timeout=10).status_code == 401


def test_the_books_worker_reads_its_version_from_version_metadata(handle: Any) -> None:
    sb = handle.sandbox
    health = httpx.get(f"{sb.worker_url}/health", timeout=10).json()
    assert health["version_id"] == sb.live_version(BOOKS)  # the control plane's id, through CF_VERSION_METADATA
    config = (sb.dir_of(BOOKS) / "wrangler.toml").read_text()
    assert '[version_metadata]\nbinding = "CF_VERSION_METADATA"' in config and "SANDBOX_VERSION_ID" not in config


def test_bad_deploy_on_the_plain_worker_throws_and_analytics_count_the_errors(handle: Any) -> None:
    sb = handle.sandbox
    good = sb.live_version(PLAIN)
    sb.break_("bad-deploy", "plain")
    bad = sb.live_version(PLAIN)
    assert bad != good and not sb.recovered("bad-deploy", "plain")
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    assert [httpx.get(f"{sb.url_of(PLAIN)}/", timeout=10).status_code for _ in range(4)] == [500] * 4
    seen = analytics(handle, PLAIN.script, bad, since)
    assert seen["errors"] == 4 and seen["error_rate"] == 1.0 and seen["by_status"] == {"scriptThrewException": 4}
    rollback(handle, PLAIN, str(good))
    assert sb.live_version(PLAIN) == good and sb.recovered("bad-deploy", "plain")


def test_worker_hang_accepts_connections_and_never_answers(handle: Any) -> None:
    sb = handle.sandbox
    good = sb.live_version(PLAIN)
    sb.break_("worker-hang", "plain")
    hung = sb.live_version(PLAIN)
    assert hung != good
    since = datetime.now(timezone.utc) - timedelta(seconds=1)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):  # connected (no ConnectError), then nothing
        httpx.get(f"{sb.url_of(PLAIN)}/", timeout=httpx.Timeout(2.0, connect=5.0))
    assert time.monotonic() - started >= 2.0
    assert not sb.recovered("worker-hang", "plain")
    deadline = time.monotonic() + 5
    while analytics(handle, PLAIN.script, hung, since)["requests"] < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    seen = analytics(handle, PLAIN.script, hung, since)
    assert seen["by_status"] == {"clientDisconnected": 1} and seen["errors"] == 0  # as Cloudflare counts it
    assert seen["wall_ms"]["p99"] >= 2000  # the hang shows in wall time
    rollback(handle, PLAIN, str(good))
    assert sb.recovered("worker-hang", "plain")


def test_the_sandbox_works_on_its_own_copies_of_the_examples(handle: Any) -> None:
    sb = handle.sandbox
    targets = sb.targets_file().read_text()
    for spec in (BOOKS, PLAIN):
        assert sb.dir_of(spec).is_relative_to(sb.home) and (sb.dir_of(spec) / "wrangler.toml").exists()
        assert f'wrangler_config = "{sb.dir_of(spec) / "wrangler.toml"}"' in targets
        assert f'[targets.{spec.target}]' in targets and f'worker_url = "{sb.url_of(spec)}"' in targets
    assert examples() == EXAMPLES_AT_IMPORT  # after deploys, breaks, rollbacks and a secret put
