"""The emulator as a witness: its answers, and our client's requests, checked against Cloudflare's reference types.

The schemas in ``reference_schemas`` are transcribed from cloudflare-typescript and
wrangler's source (each cites its file and commit). A field the emulator invents,
or one our client sends that the API does not take, fails here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import pytest

import ops.cloudflare as cf
from ops.cloudflare import CloudflareClient, RetryPolicy
from ops.cloudflare.operations import attach_consumer
from ops.errors import ApiError
from ops.sandbox.emulator import routing, start_emulator
from ops.sandbox.emulator.__main__ import load_seed
from tests.cloudflare import reference_schemas as ref
from tests.cloudflare.scripted_edge import ScriptedEdge, envelope

ACCOUNT, TOKEN = "5a4db0c5000000000000000000000000", "sandbox-local-token"
JOBS, DLQ, CACHE = "e0a0000000000000000000000000a001", "e0a0000000000000000000000000d001", "b0b0cafe000000000000000000000001"
REFERENCE = re.compile(r"^(cloudflare-typescript@[0-9a-f]{8} src/resources/|workers-sdk@[0-9a-f]{8} packages/"
                       r"|developers\.cloudflare\.com/)\S+")


def valid(schema: dict[str, Any], instance: Any) -> None:
    jsonschema.Draft202012Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(instance), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


def test_every_route_names_its_reference_source() -> None:
    import ops.sandbox.emulator.queue_messages  # noqa: F401 (registers its routes)

    assert len(routing.SOURCES) == len(routing.ROUTES) >= 40
    unsourced = [f"{m} {p}: {s!r}" for (m, p), s in routing.SOURCES.items() if not REFERENCE.match(s)]
    assert unsourced == []


# --- the emulator's answers ---------------------------------------------------------------------------------

@pytest.fixture
def client(tmp_path: Path) -> Iterator[CloudflareClient]:
    handle = start_emulator(tmp_path / "state.json", seed=load_seed("default"), token=TOKEN)
    c = CloudflareClient(ACCOUNT, TOKEN, base_url=handle.api_base_url, timeout=5, retry=RetryPolicy(attempts=1))
    yield c
    c.close()
    handle.stop()


def upload(c: CloudflareClient, script: str, text: str) -> None:
    boundary = "----cfwremedy"
    metadata = {"main_module": "index.js", "compatibility_date": "2026-01-01", "bindings": [
        {"type": "plain_text", "name": "PROVIDER_ORDER", "text": "a,b"}]}
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"metadata\"; filename=\"blob\"\r\n"
            f"Content-Type: application/json\r\n\r\n{json.dumps(metadata)}\r\n--{boundary}\r\n"
            f"Content-Disposition: form-data; name=\"index.js\"; filename=\"index.js\"\r\n"
            f"Content-Type: application/javascript+module\r\n\r\n{text}\r\n--{boundary}--\r\n").encode()
    c.request("PUT", f"/workers/scripts/{script}", content=body,
              headers={"content-type": f"multipart/form-data; boundary={boundary}"})


def test_versions_deployments_and_secrets_answer_the_reference_shapes(client: CloudflareClient) -> None:
    upload(client, "api-worker", "export default {fetch() { return new Response('v1') }}")
    upload(client, "api-worker", "export default {fetch() { return new Response('v2') }}")
    cf.put_secret(client, "api-worker", "JWT_SECRET", "s3cret")
    versions = cf.list_versions(client, "api-worker")
    for version in versions:
        valid(ref.VERSION, version)
    valid(ref.VERSION, cf.get_version(client, "api-worker", versions[-1]["id"]))
    valid(ref.DEPLOYMENT_LIST, client.result("GET", "/workers/scripts/api-worker/deployments"))
    valid(ref.DEPLOYMENT, cf.create_deployment(client, "api-worker", versions[0]["id"], message="witness"))
    for secret in cf.list_secrets(client, "api-worker"):
        valid(ref.SECRET_ITEM, secret)


def test_scripts_worker_and_d1_answer_the_reference_shapes(client: CloudflareClient) -> None:
    upload(client, "api-worker", "export default {fetch() { return new Response('v1') }}")
    for script in client.result("GET", "/workers/scripts"):
        valid(ref.SCRIPT, script)
    valid(ref.SCRIPT, client.result("GET", "/workers/services/api-worker")["default_environment"]["script"])
    valid(ref.WORKER, client.result("GET", "/workers/workers/api-worker"))
    created = client.result("POST", "/d1/database", json={"name": "books-db"})
    valid(ref.D1, created)
    valid(ref.D1, client.result("GET", f"/d1/database/{created['uuid']}"))
    for database in cf.list_d1(client):
        valid(ref.D1, database)


def test_kv_answers_the_reference_shapes(client: CloudflareClient) -> None:
    for namespace in cf.list_kv_namespaces(client):
        valid(ref.KV_NAMESPACE, namespace)
    valid(ref.KV_BULK_RESULT, client.result("PUT", f"/storage/kv/namespaces/{CACHE}/bulk",
                                            json=[{"key": "k", "value": "v"}]))


def test_queues_consumers_and_messages_answer_the_reference_shapes(client: CloudflareClient) -> None:
    valid(ref.CONSUMER, cf.create_consumer(client, JOBS, "api-worker", dead_letter_queue="enrichment-dlq",
                                           settings={"batch_size": 10, "max_retries": 3}))
    valid(ref.CONSUMER, cf.create_pull_consumer(client, DLQ))
    for queue in cf.list_queues(client):
        valid(ref.QUEUE, queue)
    valid(ref.PUSH_RESULT, cf.push_messages(client, DLQ, [{"body": {"n": 1}, "content_type": "json"},
                                                          {"body": "t", "content_type": "text"}]))
    valid(ref.PEEK_RESULT, client.result("POST", f"/queues/{DLQ}/messages/peek", json={"batch_size": 10}))
    pulled = cf.pull_messages(client, DLQ, batch_size=10)
    valid(ref.PULL_RESULT, pulled)
    json_bodies = [m["body"] for m in pulled["messages"] if m["metadata"]["CF-Content-Type"] == "json"]
    valid({"type": "array", "items": ref.BASE64, "minItems": 1}, json_bodies)
    valid(ref.ACK_RESULT, cf.ack_messages(client, DLQ, [m["lease_id"] for m in pulled["messages"]]))


def test_r2_answers_the_reference_shapes(client: CloudflareClient) -> None:
    client.request("POST", "/r2/buckets", json={"name": "books-archive"}, headers={"cf-r2-jurisdiction": "eu"})
    valid(ref.R2_LIST, client.result("GET", "/r2/buckets", headers={"cf-r2-jurisdiction": "eu"}))
    valid(ref.R2_BUCKET, client.result("GET", "/r2/buckets/books-archive", headers={"cf-r2-jurisdiction": "eu"}))
    with pytest.raises(ApiError) as missing:  # a bucket is one jurisdiction's
        client.result("GET", "/r2/buckets/books-archive")
    assert missing.value.code == 10006


# --- our client's requests ----------------------------------------------------------------------------------

@pytest.fixture
def edge() -> Iterator[ScriptedEdge]:
    server = ScriptedEdge([(200, {"content-type": "application/json"}, envelope({}))])
    yield server
    server.stop()


def sent(edge: ScriptedEdge, suffix: str) -> list[Any]:
    return [json.loads(body) for method, path, _, body in edge.seen if path.split("?")[0].endswith(suffix) and body]


def test_our_request_bodies_are_what_the_reference_takes(edge: ScriptedEdge, tmp_path: Path) -> None:
    c = CloudflareClient(ACCOUNT, TOKEN, base_url=edge.api_base_url, timeout=5, retry=RetryPolicy(attempts=1))
    cf.create_deployment(c, "api-worker", "v1", message="roll back: /health 500s " * 10, force=True)
    cf.put_secret(c, "api-worker", "JWT_SECRET", "s3cret")
    cf.kv_bulk_put(c, CACHE, [{"key": "k", "value": "v", "expiration_ttl": 300}])
    config = tmp_path / "wrangler.json"
    config.write_text(json.dumps({"name": "api-worker", "queues": {"consumers": [
        {"queue": "enrichment-jobs", "max_batch_size": 10, "max_batch_timeout": 5, "max_retries": 3}]}}))
    attach_consumer(c, JOBS, "api-worker", dead_letter_queue="enrichment-dlq", config=str(config), queue="enrichment-jobs")
    cf.create_pull_consumer(c, DLQ)
    cf.push_messages(c, JOBS, [{"body": {"n": 1}, "content_type": "json"}, {"body": "t", "content_type": "text"}])
    cf.pull_messages(c, DLQ, batch_size=10)
    cf.ack_messages(c, DLQ, ["lease-1"])
    cf.peek_messages(c, DLQ, batch_size=5)

    [deployment] = sent(edge, "/deployments")
    valid(ref.DEPLOYMENT_CREATE_BODY, deployment)
    assert any("force=true" in path for _, path, _, _ in edge.seen)  # a query parameter, not a body field
    valid(ref.SECRET_PUT_BODY, sent(edge, "/secrets")[0])
    valid(ref.KV_BULK_BODY, sent(edge, "/bulk")[0])
    for body in sent(edge, "/consumers"):
        valid(ref.CONSUMER_CREATE_BODY, body)
    valid(ref.PUSH_BATCH_BODY, sent(edge, "/messages/batch")[0])
    valid(ref.PULL_BODY, sent(edge, "/messages/pull")[0])
    valid(ref.ACK_BODY, sent(edge, "/messages/ack")[0])
    valid(ref.PEEK_BODY, sent(edge, "/messages/peek")[0])
