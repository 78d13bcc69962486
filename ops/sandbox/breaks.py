"""The sandbox's break scenarios, as one registry.

Each scenario says what it breaks, which remediation answers it (with the
flags a rehearsal passes), how to induce it on a sandbox Worker, and how the
sandbox itself checks recovery, independently of what a remediation claims.
``inv sandbox.break`` takes its help from here; tests iterate ``SCENARIOS``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable


from ops.errors import InputError
from ops.sandbox.constants import AI, BOOKS, MANUSCRIPT, MANUSCRIPT_DB, PLAIN, WorkerSpec, worker

if TYPE_CHECKING:
    from ops.sandbox.manager import Sandbox

Act = Callable[["Sandbox", WorkerSpec], None]
Check = Callable[["Sandbox", WorkerSpec], bool]
SANDBOX_MODULES = Path(__file__).with_name("workers")
DLQ, JOBS = "enrichment-dlq", "enrichment-jobs"
ANALYSIS_DLQ = "manuscript-analysis-dlq"
STUCK_MANUSCRIPTS = (1, 2, 3)


@dataclass(frozen=True)
class Scenario:
    name: str
    breaks: str                         # what it breaks, as a user would see it
    remediation: str                    # the remediation that answers it
    flags: tuple[str, ...]              # what a rehearsal passes to that remediation
    induce: Act
    recovered: Check                    # the sandbox's own view: is the harm gone?
    workers: tuple[WorkerSpec, ...] = (BOOKS,)

    def worker_for(self, name: str | None) -> WorkerSpec:
        spec = worker(name) if name else self.workers[0]
        if spec not in self.workers:
            raise InputError(f"scenario {self.name!r} applies to {', '.join(w.key for w in self.workers)}, not {spec.key!r}")
        return spec


def _deploy_module(module: str, message: str) -> Act:
    def deploy(sb: Sandbox, spec: WorkerSpec) -> None:
        # The Worker's own config and bindings, with the sandbox's module as its code.
        sb.wrangler("deploy", "--config", "wrangler.toml", str(SANDBOX_MODULES / module), "--message", message, worker=spec)
        sb.wait_live(spec)
    return deploy


def _answers(sb: Sandbox, spec: WorkerSpec) -> bool:
    return bool(sb.health(spec, timeout=5)["healthy"])


def _flush(sb: Sandbox, spec: WorkerSpec) -> None:
    import httpx

    response = httpx.post(f"{sb.dev_url_of(spec)}/admin/cache/flush",
                          headers={"X-Cache-Warm-Secret": sb.secrets["CACHE_WARM_SECRET"]}, timeout=30)
    if response.status_code != 200:
        from ops.errors import SandboxError

        raise SandboxError(f"cache flush failed: {response.status_code} {response.text[:200]}")


def _warm(sb: Sandbox, spec: WorkerSpec) -> bool:
    import httpx

    keys = (sb.root / "examples" / spec.example / "popular-keys.txt").read_text().split()
    return str(httpx.get(f"{sb.dev_url_of(spec)}/v1/books/{keys[0]}", timeout=10).headers.get("x-cache-status")) == "HIT"


def _delete_warm_secret(sb: Sandbox, spec: WorkerSpec) -> None:
    from ops.cloudflare import delete_secret
    from ops.sandbox.manager import with_client

    with_client(sb, lambda c: delete_secret(c, spec.script, "CACHE_WARM_SECRET"))
    sb.wait_live(spec)


def _has_warm_secret(sb: Sandbox, spec: WorkerSpec) -> bool:
    return (sb.health(spec).get("secrets") or {}).get("CACHE_WARM_SECRET") is True


def _queue(sb: Sandbox, name: str, script: str = "") -> dict[str, object]:
    from ops.cloudflare.operations import find_queue
    from ops.sandbox.manager import with_client

    queue: dict[str, object] = with_client(sb, lambda c: find_queue(c, name, script))
    return queue


def _detach(sb: Sandbox, spec: WorkerSpec) -> None:
    from ops.cloudflare import delete_consumer
    from ops.sandbox.manager import with_client

    queue = _queue(sb, JOBS, spec.script)
    if queue["consumer_id"]:
        with_client(sb, lambda c: delete_consumer(c, str(queue["queue_id"]), str(queue["consumer_id"])))
    sb.wait_live(spec)  # the same version, reloaded without its consumer


def _metrics_queue(sb: Sandbox, spec: WorkerSpec) -> dict[str, object]:
    import httpx

    try:
        body: dict[str, object] = httpx.get(f"{sb.dev_url_of(spec)}/metrics/queue", timeout=10).json()
        return body
    except (httpx.HTTPError, ValueError):
        return {}


def _dead_letter(sb: Sandbox, spec: WorkerSpec) -> None:
    from ops.cloudflare import push_messages
    from ops.sandbox.manager import with_client

    dlq = _queue(sb, DLQ)
    jobs = [{"body": {"id": f"dead-{i}", "isbn": f"97800000009{i:02d}", "at": 0}, "content_type": "json"} for i in range(8)]
    with_client(sb, lambda c: push_messages(c, str(dlq["queue_id"]), jobs))


def _dlq_empty(sb: Sandbox, spec: WorkerSpec) -> bool:
    from ops.cloudflare import peek_messages
    from ops.sandbox.manager import with_client

    dlq = _queue(sb, DLQ)
    return not with_client(sb, lambda c: peek_messages(c, str(dlq["queue_id"]), batch_size=1))


def _d1(sb: Sandbox, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    from ops.sandbox.manager import with_client

    body = {"sql": sql, **({"params": params} if params else {})}
    answer = with_client(sb, lambda c: c.result("POST", f"/d1/database/{MANUSCRIPT_DB}/query", json=body))
    rows: list[dict[str, Any]] = answer[0]["results"]
    return rows


def _analysis_dead_letters(sb: Sandbox, spec: WorkerSpec) -> None:
    """What an analysis outage leaves: manuscripts waiting for their analysis, their jobs in the dead-letter queue."""
    from ops.cloudflare import push_messages
    from ops.sandbox.manager import with_client

    marks = ", ".join("?" for _ in STUCK_MANUSCRIPTS)
    _d1(sb, f"UPDATE manuscripts SET analysis_status = 'queued', word_count = NULL, analyzed_at = NULL WHERE id IN ({marks})",
        list(STUCK_MANUSCRIPTS))
    dlq = _queue(sb, ANALYSIS_DLQ)
    jobs = [{"body": {"manuscript_id": i, "requested_at": 0}, "content_type": "json"} for i in STUCK_MANUSCRIPTS]
    with_client(sb, lambda c: push_messages(c, str(dlq["queue_id"]), jobs))


def _analysed(sb: Sandbox, spec: WorkerSpec) -> bool:
    """The dead-letter queue is empty and the stuck manuscripts are analysed, as the D1 API shows them."""
    from ops.cloudflare import peek_messages
    from ops.sandbox.manager import with_client

    dlq = _queue(sb, ANALYSIS_DLQ)
    if with_client(sb, lambda c: peek_messages(c, str(dlq["queue_id"]), batch_size=1)):
        return False
    rows = _d1(sb, "SELECT id, analysis_status, word_count FROM manuscripts")
    return all(r["analysis_status"] == "done" and r["word_count"] for r in rows if r["id"] in STUCK_MANUSCRIPTS)


def _slow_first_provider(sb: Sandbox, spec: WorkerSpec) -> None:
    import httpx

    first = (sb.health(spec).get("provider_order") or ["google_books"])[0]
    httpx.put(f"{sb.provider_url(first)}/__provider/config", json={"latency_ms": 2500, "failure_rate": 0.5}, timeout=10)


def _first_provider_fine(sb: Sandbox, spec: WorkerSpec) -> bool:
    import httpx

    order = sb.health(spec).get("provider_order") or []
    if not order:
        return False
    config = httpx.get(f"{sb.provider_url(order[0])}/__provider/config", timeout=5).json()
    return float(config["latency_ms"]) < 1000 and float(config["failure_rate"]) < 0.1


def _recreate_namespace(sb: Sandbox, spec: WorkerSpec) -> None:
    from ops.cloudflare import create_kv_namespace, delete_kv_namespace, list_kv_namespaces
    from ops.sandbox.manager import with_client

    def swap(c: Any) -> None:
        for namespace in list_kv_namespaces(c):
            if namespace["title"] == "books-cache":
                delete_kv_namespace(c, namespace["id"])
        create_kv_namespace(c, "books-cache")
    with_client(sb, swap)


def _config_namespaces_exist(sb: Sandbox, spec: WorkerSpec) -> bool:
    from ops.cloudflare import list_kv_namespaces
    from ops.sandbox.manager import with_client

    config = tomllib.loads((sb.dir_of(spec) / "wrangler.toml").read_text(encoding="utf-8"))
    wanted = {ns["id"] for ns in config.get("kv_namespaces", [])}
    have = {ns["id"] for ns in with_client(sb, list_kv_namespaces)}
    return wanted <= have


def _fail_primary_ai_provider(sb: Sandbox, spec: WorkerSpec) -> None:
    import httpx

    primary = httpx.get(f"{sb.dev_url_of(spec)}/config", timeout=10).json()["primaryProvider"]
    httpx.put(f"{sb.provider_url(primary)}/__provider/config", json={"failure_rate": 1.0}, timeout=10).raise_for_status()


def _ai_answers(sb: Sandbox, spec: WorkerSpec) -> bool:
    """Uncached questions (fresh texts) to the main endpoint all answer 200, whoever the provider."""
    import uuid

    import httpx

    texts = [f"recovery check {uuid.uuid4().hex}" for _ in range(5)]
    return all(httpx.get(f"{sb.dev_url_of(spec)}/ai/summarize", params={"text": t}, timeout=10).status_code == 200
               for t in texts)


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("cache-flush", "empty the Worker's KV cache: the hit rate drops", "cache-warm", (), _flush, _warm),
    Scenario("bad-deploy", "deploy a version that throws on every request, with the real wrangler deploy",
             "rollback", (), _deploy_module("bad.mjs", "sandbox: a bad deploy"), _answers, (BOOKS, PLAIN, MANUSCRIPT)),
    Scenario("worker-hang", "deploy a version that accepts every request and never answers",
             "rollback", (), _deploy_module("hang.mjs", "sandbox: a hung deploy"), _answers, (BOOKS, PLAIN, MANUSCRIPT)),
    Scenario("secret-missing", "delete CACHE_WARM_SECRET: cache warming is refused", "secret-rotation",
             ("--name", "CACHE_WARM_SECRET", "--create", "--value", "env:CACHE_WARM_SECRET"),
             _delete_warm_secret, _has_warm_secret),
    Scenario("consumer-detached", "detach the queue consumer: the enrichment backlog grows", "queue-redeploy", (),
             _detach, lambda sb, spec: _metrics_queue(sb, spec).get("consumer_attached") is True),
    Scenario("dead-letters", f"put 8 failed enrichment jobs in the dead-letter queue ({DLQ})", "queue-redeploy",
             ("--replay-dlq",), _dead_letter, _dlq_empty),
    Scenario("analysis-dead-letters", f"manuscripts stuck waiting for analysis, their jobs in {ANALYSIS_DLQ} "
             "(what an analysis outage leaves after the queue's retries)", "queue-redeploy", ("--replay-dlq",),
             _analysis_dead_letters, _analysed, (MANUSCRIPT,)),
    Scenario("provider-slow", "make the first provider in PROVIDER_ORDER slow and failing", "provider-reorder", (),
             _slow_first_provider, _first_provider_fine),
    Scenario("binding-mismatch", "recreate the books-cache KV namespace under a new id: the config's id no longer exists",
             "binding-check", ("--fix",), _recreate_namespace, _config_namespaces_exist),
    Scenario("ai-provider-errors", "make the AI Worker's primary provider answer 503 to every request",
             "fallback-providers", (), _fail_primary_ai_provider, _ai_answers, (AI,)),
)
NAMES = tuple(s.name for s in SCENARIOS)


def find(name: str) -> Scenario:
    for scenario in SCENARIOS:
        if scenario.name == name:
            return scenario
    raise InputError(f"no scenario {name!r}; choose one of: {', '.join(NAMES)}")


def help_text() -> str:
    def workers(s: Scenario) -> str:
        others = "|".join(w.key for w in s.workers if w is not BOOKS)
        return "" if not others else f", also --worker {others}" if BOOKS in s.workers else f", --worker {others}"
    return "; ".join(f"{s.name} ({s.remediation}{workers(s)})" for s in SCENARIOS)
