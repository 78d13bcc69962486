"""The books Worker as the books runbook describes it (its `api-worker`), on real workerd in the session sandbox:
every route and binding the runbook names, and a failed job's console lines reaching both `inv logs --search`
and the real `wrangler tail --search`, with the request they belong to.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import tomllib
from typing import Any, Callable

import httpx
import pytest

from ops.actions.jwt_probe import mint_hs256
from ops.cloudflare import list_secrets
from ops.sandbox.constants import BOOKS
from ops.sandbox.layout import with_client

from testing.workspace import REPO

# The runbook's words, as the example Worker must carry them.
RUNBOOK_ROUTES = {"/v1/search/title": "GET", "/ws/progress": "GET", "/api/token/refresh": "POST",
                  "/admin/cache-metrics": "GET", "/admin/cache/warm": "POST"}
RUNBOOK_BINDINGS = {("r2_buckets", "API_CACHE_COLD"), ("durable_objects", "ProgressWebSocketDO"),
                    ("durable_objects", "RateLimiterDO"), ("queues", "author-warming-queue")}
RUNBOOK_SECRETS = ("GEMINI_API_KEY", "ISBNDB_API_KEY", "GOOGLE_BOOKS_API_KEY")


def config_bindings(config: dict[str, Any]) -> set[tuple[str, str]]:
    found = {("r2_buckets", b["binding"]) for b in config.get("r2_buckets", [])}
    found |= {("durable_objects", b["class_name"]) for b in (config.get("durable_objects") or {}).get("bindings", [])}
    found |= {("queues", q["queue"]) for q in (config.get("queues") or {}).get("producers", [])}
    return found


def test_the_runbooks_bindings_are_in_the_example_and_in_the_config_wrangler_dev_serves(sandbox: Any) -> None:
    example = tomllib.loads((REPO / "examples" / "books-worker" / "wrangler.toml").read_text(encoding="utf-8"))
    assert RUNBOOK_BINDINGS <= config_bindings(example)
    assert example["vars"]["ENABLE_V1_COMPAT"] == "true"
    served = json.loads((sandbox.home / "live" / BOOKS.script / "wrangler.json").read_text(encoding="utf-8"))
    assert RUNBOOK_BINDINGS <= config_bindings(served)  # the Durable Objects run on workerd, not only in the config
    secrets = {s["name"] for s in with_client(sandbox.sandbox, lambda c: list_secrets(c, BOOKS.script))}
    assert set(RUNBOOK_SECRETS) <= secrets
    health = httpx.get(f"{sandbox.sandbox.url_of(BOOKS)}/health", timeout=10).json()
    assert all(health["secrets"][name] for name in RUNBOOK_SECRETS)


def test_the_runbooks_routes_answer_and_errors_carry_x_error_code(sandbox: Any) -> None:
    url = str(sandbox.sandbox.url_of(BOOKS))
    for path, method in RUNBOOK_ROUTES.items():  # each is a route: whatever it answers bare, it is not "no route"
        assert httpx.request(method, f"{url}{path}", timeout=10).headers.get("x-error-code") != "NOT_FOUND", path
    assert httpx.get(f"{url}/no/such/route", timeout=10).headers["x-error-code"] == "NOT_FOUND"
    found = httpx.get(f"{url}/v1/search/title", params={"q": "Dune"}, timeout=10)
    assert found.status_code == 200 and found.json()["results"][0]["title"]
    assert httpx.get(f"{url}/v1/search/title", params={"q": "Dune"}, timeout=10).headers["x-cache-status"] == "COLD"
    legacy = httpx.get(f"{url}/v1/search/title", params={"title": "Dune"}, timeout=10)
    assert legacy.status_code == 200  # ENABLE_V1_COMPAT = "true"
    missing = httpx.get(f"{url}/v1/search/title", timeout=10)
    assert missing.status_code == 400 and missing.headers["x-error-code"] == "MISSING_QUERY"
    metrics = httpx.get(f"{url}/admin/cache-metrics", timeout=10).json()
    assert "hit_rate" in metrics and metrics["r2"]["writes"] >= 1 and metrics["r2"]["write_failures"] == 0
    token = mint_hs256(sandbox.sandbox.secrets_of(BOOKS)["JWT_SECRET"], {"sub": "reader", "exp": int(time.time()) + 30})
    refreshed = httpx.post(f"{url}/api/token/refresh", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert refreshed.status_code == 200
    me = httpx.get(f"{url}/v1/me", headers={"Authorization": f"Bearer {refreshed.json()['token']}"}, timeout=10)
    assert me.json() == {"user": "reader"}
    bad = httpx.post(f"{url}/api/token/refresh", headers={"Authorization": "Bearer x.y.z"}, timeout=10)
    assert bad.status_code == 401 and bad.headers["x-error-code"] == "TOKEN_INVALID"


def test_a_jobs_progress_is_pushed_over_ws_progress_by_its_durable_object(sandbox: Any) -> None:
    from websockets.sync.client import connect

    dev = str(sandbox.sandbox.dev_url_of(BOOKS))  # the recording proxy does not carry WebSockets
    job = httpx.post(f"{dev}/api/import/csv", content="isbn,title\n9780441013593,Dune\n", timeout=30).json()
    assert job["status"] == "done" and job["done"] == 1
    with connect(f"{dev.replace('http', 'ws', 1)}/ws/progress?jobId={job['id']}", open_timeout=10) as socket:
        pushed = json.loads(socket.recv(timeout=10))
    assert pushed["id"] == job["id"] and pushed["status"] == "done"


def set_providers(sandbox: Any, failure_rate: float) -> None:
    for name in ("google_books", "openlibrary", "isbndb"):
        httpx.put(f"{sandbox.sandbox.provider_url(name)}/__provider/config", json={"failure_rate": failure_rate},
                  timeout=10).raise_for_status()


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def tail_sessions(sandbox: Any) -> int:
    seen = httpx.get(f"{sandbox.sandbox.emulator_url}/__emulator/requests", headers=sandbox.sandbox.admin_headers,
                     timeout=10).json()
    return sum(1 for r in seen if r["method"] == "POST" and r["path"].endswith(f"/{BOOKS.script}/tails"))


def test_a_stalled_jobs_console_lines_reach_inv_logs_and_wrangler_tail_by_its_job_id(sandbox: Any) -> None:
    sb = sandbox.sandbox
    url = str(sb.url_of(BOOKS))
    set_providers(sandbox, 1.0)
    try:
        job = httpx.post(f"{url}/api/import/csv", content="9780441013593\n9780765326355\n", timeout=60).json()
    finally:
        set_providers(sandbox, 0.0)
    assert job["status"] == "stalled" and job["row"] == 0
    before = tail_sessions(sandbox)
    wrangler = subprocess.Popen([sb.wrangler_bin(BOOKS), "tail", BOOKS.script, "--format", "json", "--search", job["id"]],
                                cwd=sb.dir_of(BOOKS), env=sb.wrangler_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
    logs = subprocess.Popen([sys.executable, "-m", "invoke", "--search-root", str(REPO),
                             "logs", "--search", job["id"], "--json", "--seconds", "8"],
                            env=sandbox.ops_env(OPS_TARGET=BOOKS.target), cwd=sandbox.home,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: tail_sessions(sandbox) >= before + 2, "both tail sessions")
        # Another request logs at the same moment: its lines stay its own.
        other = threading.Thread(target=lambda: httpx.get(f"{url}/nowhere", timeout=10))
        other.start()
        assert httpx.get(f"{url}/api/jobs/{job['id']}", timeout=10).json()["status"] == "stalled"
        other.join()
        out, err = logs.communicate(timeout=60)
        assert logs.returncode == 0, err
        wrangler_out = _until_event(wrangler, job["id"])
    finally:
        for proc in (wrangler, logs):
            if proc.poll() is None:  # SIGTERM, which wrangler's launcher passes on: a SIGKILL leaves its tail running
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
    ours = json.loads(out)["events"]
    # Cloudflare redacts the id in the URL: the console line is how the runbook finds the job.
    assert [e["event"]["request"]["url"].split("/", 3)[-1] for e in ours] == ["api/jobs/REDACTED"]
    messages = [m for log in ours[0]["logs"] for m in log["message"]]
    assert messages == [f"[csv-import] job {job['id']} is stalled: 0 of 2 rows",  # a console.log, not only warnings
                        f"[csv-import] job {job['id']} is stalled at row 0: no provider answered for isbn 9780441013593"]
    assert [m for log in wrangler_out["logs"] for m in log["message"]] == messages
    assert [log["level"] for log in ours[0]["logs"]] == [log["level"] for log in wrangler_out["logs"]] == ["log", "warn"]


def _until_event(proc: subprocess.Popen[str], needle: str) -> dict[str, Any]:
    """The first event with ``needle`` that wrangler tail prints (each is pretty-printed JSON over several lines)."""
    assert proc.stdout is not None
    stdout, text = proc.stdout, []
    threading.Thread(target=lambda: [text.append(chunk) for chunk in iter(stdout.readline, "")], daemon=True).start()
    decoder = json.JSONDecoder()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        whole, at = "".join(text), 0
        while (start := whole.find("{", at)) != -1:
            try:
                event, at = decoder.raw_decode(whole, start)
            except ValueError:
                break
            if needle in json.dumps(event):
                return dict(event)
        time.sleep(0.1)
    raise AssertionError(f"wrangler tail printed no event with {needle}: {''.join(text)[-500:]}")


def test_a_stalled_job_resumes_from_its_row_with_retry(sandbox: Any) -> None:
    url = str(sandbox.sandbox.url_of(BOOKS))
    set_providers(sandbox, 1.0)
    try:
        job = httpx.post(f"{url}/api/import/csv", content="9780441013593\n", timeout=60).json()
    finally:
        set_providers(sandbox, 0.0)
    assert job["status"] == "stalled"
    resumed = httpx.post(f"{url}/api/jobs/{job['id']}/retry", timeout=60)
    assert resumed.status_code == 202 and resumed.json()["status"] == "done"
    again = httpx.post(f"{url}/api/jobs/{job['id']}/retry", timeout=10)
    assert again.status_code == 409 and again.headers["x-error-code"] == "JOB_NOT_STALLED"
