"""The sandbox-only bridges from a Worker's `wrangler dev` to the emulator: its D1 binding and its dead letters.

They answer the shim (ops/sandbox/shim.mjs), not Cloudflare's clients: the D1 bridge runs the
binding's statements on the same SQLite as the D1 API, and the queue bridge puts jobs that failed
their retries into the emulator's queue of the same name. Neither is recorded as an API request.
The real Worker on workerd uses both in tests/e2e/test_manuscript.py.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from ops.cloudflare import CloudflareClient, peek_messages
from ops.cloudflare.operations import find_queue
from ops.sandbox.constants import ACCOUNT_ID, MANUSCRIPT_DB, TOKEN
from ops.sandbox.contract import LiveVersion, QueueConsumer
from ops.sandbox.d1_seed import password_hash
from ops.sandbox.emulator import EmulatorHandle, start_emulator
from ops.sandbox.emulator.__main__ import load_seed
from ops.sandbox.live import EMULATOR_URL, config_for


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorHandle]:
    handle = start_emulator(tmp_path / "state.json", seed=load_seed("default,plain,manuscript"), token=TOKEN)
    yield handle
    handle.stop()


@pytest.fixture
def client(emulator: EmulatorHandle) -> Iterator[CloudflareClient]:
    c = CloudflareClient(ACCOUNT_ID, TOKEN, base_url=emulator.api_base_url, timeout=5)
    yield c
    c.close()


def binding(emulator: EmulatorHandle, statements: list[dict[str, Any]]) -> httpx.Response:
    """What the shim's D1 facade sends for `prepare(sql).bind(...).all()` (one statement) or `batch([...])`."""
    return httpx.post(f"{emulator.url}/__emulator/d1/{MANUSCRIPT_DB}/query", json={"batch": statements}, timeout=5)


def requests(emulator: EmulatorHandle) -> list[dict[str, Any]]:
    return list(httpx.get(f"{emulator.url}/__emulator/requests", headers=emulator.admin_headers, timeout=5).json())


def test_the_seeds_join_lists_so_each_workers_database_and_queues_exist(client: CloudflareClient) -> None:
    assert [d["name"] for d in client.result("GET", "/d1/database")] == ["manuscript-platform"]
    names = {q["queue_name"] for q in client.result("GET", "/queues")}
    assert {"enrichment-jobs", "enrichment-dlq", "manuscript-analysis-queue", "manuscript-analysis-dlq"} <= names


def test_the_workers_d1_binding_and_the_d1_api_read_and_write_one_database(emulator: EmulatorHandle,
                                                                           client: CloudflareClient) -> None:
    created = binding(emulator, [{"sql": "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT)"},
                                 {"sql": "INSERT INTO users (email) VALUES (?)", "params": ["a@example.test"]}])
    assert created.status_code == 200 and created.json()["results"][1]["meta"]["changes"] == 1
    seen = client.result("POST", f"/d1/database/{MANUSCRIPT_DB}/query", json={"sql": "SELECT email FROM users"})
    assert seen[0]["results"] == [{"email": "a@example.test"}]  # what the Worker wrote, through the API
    client.result("POST", f"/d1/database/{MANUSCRIPT_DB}/query",
                  json={"sql": "INSERT INTO users (email) VALUES (?)", "params": ["b@example.test"]})
    read = binding(emulator, [{"sql": "SELECT email FROM users ORDER BY id", "params": []}]).json()
    assert [row["email"] for row in read["results"][0]["results"]] == ["a@example.test", "b@example.test"]
    recorded = [(r["method"], r["path"].split("/d1/database/")[-1]) for r in requests(emulator)]
    assert recorded == [("POST", f"{MANUSCRIPT_DB}/query")] * 2  # the API's two; the binding's are not API requests


def test_a_failing_statement_is_a_d1_error_and_rolls_the_batch_back(emulator: EmulatorHandle) -> None:
    failed = binding(emulator, [{"sql": "CREATE TABLE t (x)"}, {"sql": "SELECT * FROM missing"}])
    assert failed.status_code == 400 and "no such table: missing" in failed.json()["error"]
    again = binding(emulator, [{"sql": "SELECT name FROM sqlite_master WHERE name = 't'"}]).json()
    assert again["results"][0]["results"] == []  # one batch, one transaction, as D1 runs it
    assert httpx.post(f"{emulator.url}/__emulator/d1/nope/query", json={"sql": "SELECT 1"}, timeout=5).status_code == 404


def test_dead_letters_from_wrangler_dev_join_the_emulators_queue(emulator: EmulatorHandle, client: CloudflareClient) -> None:
    job = {"manuscript_id": 999}
    handed = httpx.post(f"{emulator.url}/__emulator/queues/manuscript-analysis-dlq/messages",
                        json={"messages": [{"body": job, "content_type": "json"}, {"body": "plain", "content_type": "text"}]},
                        timeout=5)
    assert handed.json() == {"queued": 2}
    dlq = find_queue(client, "manuscript-analysis-dlq", "")
    peeked = peek_messages(client, str(dlq["queue_id"]), batch_size=5)
    assert json.loads(base64.b64decode(peeked[0]["body"])) == job and peeked[1]["body"] == "plain"
    unknown = httpx.post(f"{emulator.url}/__emulator/queues/nope/messages", json={"messages": []}, timeout=5)
    assert unknown.status_code == 404


def test_the_live_config_binds_d1_through_the_bridge_and_consumes_its_dead_letter_queue() -> None:
    live = LiveVersion("manuscript-api", "v1", "d1", "index.js", (), (
        {"type": "d1", "name": "DB", "id": MANUSCRIPT_DB},
        {"type": "queue", "name": "ANALYSIS_QUEUE", "queue_name": "manuscript-analysis"}), {},
        queue_consumers=(QueueConsumer("manuscript-analysis", {"batch_size": 10, "max_retries": 3},
                                       "manuscript-analysis-dlq"),))
    config = config_for(live, {EMULATOR_URL: "http://127.0.0.1:1"})
    assert config["vars"]["SANDBOX_D1"] == {"DB": f"http://127.0.0.1:1/__emulator/d1/{MANUSCRIPT_DB}/query"}
    assert config["vars"]["SANDBOX_DLQ"] == {
        "manuscript-analysis-dlq": "http://127.0.0.1:1/__emulator/queues/manuscript-analysis-dlq/messages"}
    assert EMULATOR_URL not in config["vars"]
    consumers = {c["queue"]: c for c in config["queues"]["consumers"]}
    assert consumers["manuscript-analysis"]["max_retries"] == 3
    assert consumers["manuscript-analysis"]["dead_letter_queue"] == "manuscript-analysis-dlq"
    assert "manuscript-analysis-dlq" in consumers  # wrangler dev's own DLQ, handed on by the shim


def test_a_seeded_password_hash_is_pbkdf2_as_the_worker_checks_it() -> None:
    import hashlib

    stored = password_hash("hunter2-but-longer", salt=b"\0" * 16, iterations=1000)
    scheme, iterations, salt, digest = stored.split("$")
    expected = hashlib.pbkdf2_hmac("sha256", b"hunter2-but-longer", b"\0" * 16, 1000)
    assert (scheme, iterations, base64.b64decode(salt), base64.b64decode(digest)) == ("pbkdf2", "1000", b"\0" * 16, expected)


def test_the_live_config_binds_r2_buckets_as_wrangler_uploaded_them() -> None:
    live = LiveVersion("team-api", "v1", "r2", "index.js", (), (
        {"type": "r2_bucket", "name": "UPLOADS", "bucket_name": "team-uploads", "jurisdiction": "eu"},), {})
    config = config_for(live, {EMULATOR_URL: "http://127.0.0.1:1"})
    assert config["r2_buckets"] == [{"binding": "UPLOADS", "bucket_name": "team-uploads"}]
