"""The sandbox's break scenarios, as one registry.

Each scenario says what it breaks, which remediation answers it (with the
flags a rehearsal passes), how to induce it on a sandbox Worker, and how the
sandbox itself checks recovery, independently of what a remediation claims.
``inv sandbox.break`` takes its help from here; tests iterate ``SCENARIOS``.

In a Worker's repository the sandbox serves that team's Worker (``ops.sandbox.own``),
and the scenarios that need nothing of the example Workers (``ANY_WORKER``) apply to it.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from ops.errors import InputError
from ops.invoked import command
from ops.sandbox.constants import (AI, ANALYSIS_QUEUE, BOOKS, INFRA, INFRA_DB, MANUSCRIPT, MANUSCRIPT_DB,
                                   MANUSCRIPT_PROBE_EMAIL, PLAIN, WORKERS, WorkerSpec, worker)
from ops.sandbox import loopback, users
from ops.sandbox.layout import Layout, with_client

Act = Callable[[Layout, WorkerSpec], None]
Check = Callable[[Layout, WorkerSpec], bool]
SANDBOX_MODULES = Path(__file__).with_name("workers")
DLQ, JOBS = "enrichment-dlq", "enrichment-jobs"
WORKER_PLACEHOLDER = '"__WORKER__"'
# The scenarios that work on any Worker: a team's own one gets these.
ANY_WORKER = ("bad-deploy", "worker-hang", "secret-missing", "consumer-detached")
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

    def describe(self, sb: Layout, spec: WorkerSpec) -> str:
        """What it breaks, in the words of the Worker it breaks (the registry's words are the books Worker's)."""
        if spec.source is None:
            return self.breaks
        if self.name == "secret-missing":
            return f"delete the secret {broken_secret(sb, spec)}"
        if self.name == "consumer-detached":
            return f"detach the consumer of {consumed_queue(spec)}"
        if self.name == "bad-deploy" and _assets_only(sb, spec):
            return BAD_ASSETS
        return self.breaks

    def flags_for(self, sb: Layout, spec: WorkerSpec) -> tuple[str, ...]:
        """What a rehearsal passes to the remediation on this Worker (the registry's flags are the books Worker's)."""
        if spec.source is not None and self.name == "secret-missing":
            secret = broken_secret(sb, spec)
            return ("--name", secret, "--create", "--value", f"env:{secret}")
        if spec.source is not None and self.name == "consumer-detached":  # its dead-letter queue follows, from the config
            return ("--queue", str(_own_consumer(spec)["queue"]))
        return self.flags

    def worker_for(self, name: str | None, served: tuple[WorkerSpec, ...] = WORKERS) -> WorkerSpec:
        """The Worker to break: the one named, else the scenario's first; in a Worker's repository, that Worker."""
        own = [w for w in served if w.source is not None]
        if own:
            spec = next((w for w in own if name in (None, w.key, w.script, w.target)), None)
            if spec is None:
                raise InputError(f"this sandbox serves {', '.join(w.key for w in own)}, not {name!r}")
            if self.name not in ANY_WORKER:
                raise InputError(f"scenario {self.name!r} needs an example Worker "
                                 f"({', '.join(w.key for w in self.workers)}); on your own Worker: " + ", ".join(ANY_WORKER))
            return spec
        spec = worker(name) if name else self.workers[0]
        if spec not in self.workers:
            raise InputError(f"scenario {self.name!r} applies to {', '.join(w.key for w in self.workers)}, not {spec.key!r}")
        return spec


def _deploy_module(module: str, message: str, assets_only: Act | None = None) -> Act:
    """Deploy the Worker entered through the sandbox's `module`; an assets-only Worker, which has no code to enter,
    gets ``assets_only`` instead, or a refusal that says why the break does not apply to it."""
    def deploy(sb: Layout, spec: WorkerSpec) -> None:
        if _assets_only(sb, spec):
            if assets_only is None:
                raise InputError(f"{spec.script} is an assets-only Worker ({sb.config_of(spec).name} names assets and no "
                                 f"main module): no code of its own runs, so this break does not apply to it; "
                                 f"bad-deploy rehearses a rollback on it ({BAD_ASSETS})")
            assets_only(sb, spec)
            return
        # The Worker's own config, bindings and code, entered through the sandbox's wrapper of its main module.
        entry = wrap_entry(sb, spec, module)
        sb.wrangler("deploy", "--config", spec.config, entry.name, "--message", message, worker=spec)
        sb.wait_live(spec)
    return deploy


BAD_ASSETS = ("deploy a version whose assets leave the site out (one stray file in place of its files): every page "
              "answers 404, with the real wrangler deploy --assets")


def _assets_only(sb: Layout, spec: WorkerSpec) -> bool:
    from ops.sandbox.own import assets_only

    return spec.source is not None and assets_only(sb.config_of(spec), spec.env)


def _deploy_bad_assets(sb: Layout, spec: WorkerSpec) -> None:
    """An assets-only Worker's bad deploy: what a build that left the site out deploys, from a folder beside the copy's
    config (never the team's files); its own config otherwise, so the rollback goes back to its real assets."""
    import shutil

    folder = sb.dir_of(spec) / "__sandbox_bad_assets"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / "sandbox-bad-deploy.txt").write_text("a bad deploy: the build left the site out (sandbox: bad-deploy)\n",
                                                   encoding="utf-8")
    sb.wrangler("deploy", "--config", spec.config, "--assets", str(folder), "--message", "sandbox: a bad deploy",
                worker=spec)
    sb.wait_live(spec)


def wrap_entry(sb: Layout, spec: WorkerSpec, module: str) -> Path:
    """Write the sandbox's `module` beside the copy's config, importing the Worker's main module (never the team's files)."""
    from ops.documents.config import load_config
    from ops.documents.wrangler_config import TOP, effective

    data = effective(load_config(sb.config_of(spec)), spec.env or TOP).data
    main = data.get("main")
    if not isinstance(main, str) or not main:
        raise InputError(f"{sb.config_of(spec)}: the Worker has no main module; set main = \"src/index.js\" (or yours)")
    entry = sb.dir_of(spec) / f"__sandbox_{module}"
    text = (SANDBOX_MODULES / module).read_text(encoding="utf-8")
    entry.write_text(text.replace(WORKER_PLACEHOLDER, json.dumps("./" + Path(main).as_posix().removeprefix("./"))),
                     encoding="utf-8")
    return entry


def _with_users(act: Act) -> Act:
    """The act, then users on the Worker until the sandbox is reset (ops.sandbox.users): a harm that shows in a
    share of the requests needs requests to be seen, as in production."""
    def induce(sb: Layout, spec: WorkerSpec) -> None:
        act(sb, spec)
        since = datetime.now(timezone.utc)
        users.start(sb, spec)
        users.wait_seen(sb, spec, str(sb.live_version(spec)), since)
    return induce


def _answers(sb: Layout, spec: WorkerSpec) -> bool:
    return bool(sb.health(spec, timeout=5)["healthy"])


PARTIAL_SAMPLE = 40  # a version failing 8% of requests passes all of these 3.5% of the time


def _answers_every_time(sb: Layout, spec: WorkerSpec) -> bool:
    """A partial regression passes one health check; gone, it passes ``PARTIAL_SAMPLE`` in a row."""
    return all(sb.health(spec, timeout=5)["healthy"] for _ in range(PARTIAL_SAMPLE))


FLUSH_TRAFFIC = 12  # reads of popular keys after a flush: the traffic a Worker in production always has


def _flush(sb: Layout, spec: WorkerSpec) -> None:
    """Empty the cache, then read popular keys through the proxy as users would: they miss, and the hit rate
    drops. Without traffic a hit rate is no evidence either way (null), in production as here."""
    from urllib.parse import quote

    from ops.actions.cache_warm import file_keys

    response = loopback.post(f"{sb.dev_url_of(spec)}/admin/cache/flush",
                             headers={"X-Cache-Warm-Secret": sb.secrets_of(spec)["CACHE_WARM_SECRET"]}, timeout=30)
    if response.status_code != 200:
        from ops.errors import SandboxError

        raise SandboxError(f"cache flush failed: {response.status_code} {response.text[:200]}")
    keys = [key for _, key in file_keys(sb.root / "examples" / spec.example / "popular-keys.txt")]
    for key in keys[:-1][:FLUSH_TRAFFIC]:  # never the last: _warm asks for it to tell whether the cache was warmed
        loopback.get(sb.url_of(spec) + CACHED_READ[spec.key].format(key=quote(key, safe="")), timeout=30)


# Where each example Worker answers a cached key, with X-Cache-Status: the sandbox's own knowledge of its
# Workers, not the target's settings that the remediation reads.
CACHED_READ = {BOOKS.key: "/v1/books/{key}", AI.key: "/ai/summarize?text={key}"}


def _warm(sb: Layout, spec: WorkerSpec) -> bool:
    """The last popular key answers from the cache (a MISS caches it: ask once after each remediation)."""
    from urllib.parse import quote

    from ops.actions.cache_warm import file_keys

    keys = [key for _, key in file_keys(sb.root / "examples" / spec.example / "popular-keys.txt")]
    if not keys:
        return False
    url = sb.dev_url_of(spec) + CACHED_READ[spec.key].format(key=quote(keys[-1], safe=""))
    return str(loopback.get(url, timeout=30).headers.get("x-cache-status")) == "HIT"


def broken_secret(sb: Layout, spec: WorkerSpec) -> str:
    """The secret secret-missing deletes: the books Worker's warm secret (cache-warm needs it), else the Worker's first."""
    names = sorted(sb.secrets_of(spec))
    if "CACHE_WARM_SECRET" in names:
        return "CACHE_WARM_SECRET"
    if not names:
        raise InputError(f"{spec.script} has no secrets to delete: give it some in .dev.vars (or .dev.vars.<env>), "
                         "then sandbox.reset")
    return names[0]


def _delete_secret(sb: Layout, spec: WorkerSpec) -> None:
    """Through the API; after a rollback (the latest version not deployed: the API's 10215), as a new version built
    from the deployed one without that secret (ops.cloudflare.secret_versions), never from the latest."""
    from ops.cloudflare import delete_secret
    from ops.cloudflare.secret_versions import version_from_deployed
    from ops.errors import ApiError

    name = broken_secret(sb, spec)
    try:
        with_client(sb, lambda c: delete_secret(c, spec.script, name))
    except ApiError as exc:
        if exc.code != 10215:
            raise
        with_client(sb, lambda c: version_from_deployed(c, spec.script, remove=(name,), message=f"secret {name} deleted"))
    sb.wait_live(spec)


def _has_secret(sb: Layout, spec: WorkerSpec) -> bool:
    if spec is BOOKS:  # the Worker itself says which secrets it sees
        return (sb.health(spec).get("secrets") or {}).get("CACHE_WARM_SECRET") is True
    from ops.cloudflare import list_secrets

    names = {s.get("name") for s in with_client(sb, lambda c: list_secrets(c, spec.script))}
    return broken_secret(sb, spec) in names and _answers(sb, spec)


def _queue(sb: Layout, name: str, script: str = "") -> dict[str, object]:
    from ops.cloudflare.operations import find_queue

    queue: dict[str, object] = with_client(sb, lambda c: find_queue(c, name, script))
    return queue


def consumed_queue(spec: WorkerSpec) -> str:
    """The queue consumer-detached detaches: the books Worker's jobs, else the first queue the Worker consumes."""
    if spec.source is None:
        return ANALYSIS_QUEUE if spec is MANUSCRIPT else JOBS
    return str(_own_consumer(spec)["queue"])


def _own_consumer(spec: WorkerSpec) -> dict[str, Any]:
    from ops.sandbox.own import consumer

    found = consumer(spec)
    if found is None:
        raise InputError(f"{spec.script} consumes no queue in {spec.source}/{spec.config}"
                         + (f" [env.{spec.env}]" if spec.env else "") + "; consumer-detached needs a queue consumer")
    return found


def _detach(sb: Layout, spec: WorkerSpec) -> None:
    from ops.cloudflare import delete_consumer

    queue = _queue(sb, consumed_queue(spec), spec.script)
    if queue["consumer_id"]:
        with_client(sb, lambda c: delete_consumer(c, str(queue["queue_id"]), str(queue["consumer_id"])))
    sb.wait_live(spec)  # the same version, reloaded without its consumer


def _consumer_attached(sb: Layout, spec: WorkerSpec) -> bool:
    if spec.source is None:  # the example Worker reports it on /metrics/queue
        return _metrics_queue(sb, spec).get("consumer_attached") is True
    return _queue(sb, consumed_queue(spec), spec.script)["consumer_attached"] is True


def _metrics_queue(sb: Layout, spec: WorkerSpec) -> dict[str, object]:
    import httpx

    try:
        body: dict[str, object] = loopback.get(f"{sb.dev_url_of(spec)}/metrics/queue", timeout=10).json()
        return body
    except (httpx.HTTPError, ValueError):
        return {}


def _dead_letter(sb: Layout, spec: WorkerSpec) -> None:
    from ops.cloudflare import push_messages

    dlq = _queue(sb, DLQ)
    jobs = [{"body": {"id": f"dead-{i}", "isbn": f"97800000009{i:02d}", "at": 0}, "content_type": "json"} for i in range(8)]
    with_client(sb, lambda c: push_messages(c, str(dlq["queue_id"]), jobs))


def _dlq_empty(sb: Layout, spec: WorkerSpec) -> bool:
    from ops.cloudflare.operations import peek_queue

    return bool(with_client(sb, lambda c: peek_queue(c, DLQ, 1))["count"] == 0)


def _d1(sb: Layout, sql: str, params: list[Any] | None = None, database: str = MANUSCRIPT_DB) -> list[dict[str, Any]]:
    body = {"sql": sql, **({"params": params} if params else {})}
    answer = with_client(sb, lambda c: c.result("POST", f"/d1/database/{database}/query", json=body))
    rows: list[dict[str, Any]] = answer[0]["results"]
    return rows


def _analysis_dead_letters(sb: Layout, spec: WorkerSpec) -> None:
    """What an analysis outage leaves: manuscripts waiting for their analysis, their jobs in the dead-letter queue."""
    from ops.cloudflare import push_messages

    marks = ", ".join("?" for _ in STUCK_MANUSCRIPTS)
    _d1(sb, f"UPDATE manuscripts SET analysis_status = 'queued', word_count = NULL, analyzed_at = NULL WHERE id IN ({marks})",
        list(STUCK_MANUSCRIPTS))
    dlq = _queue(sb, ANALYSIS_DLQ)
    jobs = [{"body": {"manuscript_id": i, "requested_at": 0}, "content_type": "json"} for i in STUCK_MANUSCRIPTS]
    with_client(sb, lambda c: push_messages(c, str(dlq["queue_id"]), jobs))


def _analysed(sb: Layout, spec: WorkerSpec) -> bool:
    """The dead-letter queue is empty and the stuck manuscripts are analysed, as the D1 API shows them."""
    from ops.cloudflare.operations import peek_queue

    if with_client(sb, lambda c: peek_queue(c, ANALYSIS_DLQ, 1))["count"]:
        return False
    rows = _d1(sb, "SELECT id, analysis_status, word_count FROM manuscripts")
    return all(r["analysis_status"] == "done" and r["word_count"] for r in rows if r["id"] in STUCK_MANUSCRIPTS)


def _slow_first_provider(sb: Layout, spec: WorkerSpec) -> None:
    first = (sb.health(spec).get("provider_order") or ["google_books"])[0]
    loopback.put(f"{sb.provider_url(first)}/__provider/config", json={"latency_ms": 2500, "failure_rate": 0.5}, timeout=10)


def _first_provider_fine(sb: Layout, spec: WorkerSpec) -> bool:
    order = sb.health(spec).get("provider_order") or []
    if not order:
        return False
    config = loopback.get(f"{sb.provider_url(order[0])}/__provider/config", timeout=5).json()
    return float(config["latency_ms"]) < 1000 and float(config["failure_rate"]) < 0.1


LAGGING = {"google_books": 1800, "openlibrary": 800}  # ms: the first past the Worker's 1.5 s timeout, the next slow
LAG_KEYS, LAG_READS = 10, 3  # new books looked up, each read this often: one miss, then hits, as users read


def _lagging_providers(sb: Layout, spec: WorkerSpec) -> None:
    """Slow the first two providers without failing them, then look new books up as users would: every lookup
    answers 200, after the first provider's timeout and the second's wait, so p95 passes the runbook's 2 s while
    the hit rate stays where reading the same books again puts it."""
    import uuid
    from concurrent.futures import ThreadPoolExecutor

    for name, latency in LAGGING.items():
        loopback.put(f"{sb.provider_url(name)}/__provider/config", json={"latency_ms": latency, "failure_rate": 0},
                     timeout=10).raise_for_status()
    keys = [f"97800{uuid.uuid4().int % 10**8:08d}" for _ in range(LAG_KEYS)]
    for _ in range(LAG_READS):
        with ThreadPoolExecutor(max_workers=LAG_KEYS) as pool:
            list(pool.map(lambda key: loopback.get(sb.url_of(spec) + CACHED_READ[spec.key].format(key=key), timeout=30), keys))


def _recreate_namespace(sb: Layout, spec: WorkerSpec) -> None:
    from ops.cloudflare import create_kv_namespace, delete_kv_namespace, list_kv_namespaces

    def swap(c: Any) -> None:
        for namespace in list_kv_namespaces(c):
            if namespace["title"] == "api-worker-CACHE":
                delete_kv_namespace(c, namespace["id"])
        create_kv_namespace(c, "api-worker-CACHE")
    with_client(sb, swap)


def _config_namespaces_exist(sb: Layout, spec: WorkerSpec) -> bool:
    from ops.cloudflare import list_kv_namespaces

    config = tomllib.loads((sb.dir_of(spec) / "wrangler.toml").read_text(encoding="utf-8"))
    wanted = {ns["id"] for ns in config.get("kv_namespaces", [])}
    have = {ns["id"] for ns in with_client(sb, list_kv_namespaces)}
    return wanted <= have


def _fail_primary_ai_provider(sb: Layout, spec: WorkerSpec) -> None:
    primary = loopback.get(f"{sb.dev_url_of(spec)}/config", timeout=10).json()["primaryProvider"]
    loopback.put(f"{sb.provider_url(primary)}/__provider/config", json={"failure_rate": 1.0}, timeout=10).raise_for_status()


def _ai_answers(sb: Layout, spec: WorkerSpec) -> bool:
    """Uncached questions (fresh texts) to the main endpoint all answer 200, whoever the provider."""
    import uuid

    texts = [f"recovery check {uuid.uuid4().hex}" for _ in range(5)]
    return all(loopback.get(f"{sb.dev_url_of(spec)}/ai/summarize", params={"text": t}, timeout=10).status_code == 200
               for t in texts)


def _primary_key_secret(sb: Layout, spec: WorkerSpec) -> str:
    from ops.sandbox.provider_keys import KEY_SECRETS

    return KEY_SECRETS[loopback.get(f"{sb.dev_url_of(spec)}/config", timeout=10).json()["primaryProvider"]]


def _wrong_provider_key(sb: Layout, spec: WorkerSpec) -> None:
    """Put a key the primary provider does not accept as its secret, through the secrets API (as `wrangler secret
    put` does): a key revoked at the provider, or pasted wrong."""
    from ops.cloudflare import put_secret

    name = _primary_key_secret(sb, spec)
    with_client(sb, lambda c: put_secret(c, spec.script, name, "sk-revoked-0000000000000000"))
    sb.wait_live(spec)


def _provider_keys_accepted(sb: Layout, spec: WorkerSpec) -> bool:
    """The Worker's provider status lists no rejected key, and uncached questions answer."""

    status = loopback.get(f"{sb.dev_url_of(spec)}/providers/status", timeout=10).json()
    return status.get("rejectedKeys") == [] and _ai_answers(sb, spec)


MEMORY_PROMPT_KIB, MEMORY_PROMPTS = 512, 120  # traced with debugTrace on: about 94% of the isolate's 128 MiB


def _fill_memory(sb: Layout, spec: WorkerSpec) -> None:
    """Debug tracing left on, and users pasting long texts: every traced request keeps its prompt in the isolate.
    One text, asked again and again: one miss, then hits, so only the memory moves. Sent to wrangler dev itself, four
    at a time: 60 MB through the recording proxy would only slow the rehearsal down."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    admin = {"Authorization": f"Bearer {sb.secrets_of(spec)['ADMIN_SECRET']}"}
    httpx.patch(f"{sb.dev_url_of(spec)}/config", json={"debugTrace": True}, headers=admin, timeout=10).raise_for_status()
    prompt = ("a long pasted manuscript " * (MEMORY_PROMPT_KIB * 1024 // 25 + 1))[:MEMORY_PROMPT_KIB * 1024]
    with httpx.Client(base_url=sb.dev_url_of(spec), timeout=60) as client:
        client.post("/", json={"prompt": prompt})  # the miss that caches it; the rest are hits
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda _: client.post("/", json={"prompt": prompt}), range(MEMORY_PROMPTS - 1)))


def _memory_under(percent: float) -> Check:
    def check(sb: Layout, spec: WorkerSpec) -> bool:
        return float(loopback.get(f"{sb.dev_url_of(spec)}/memory", timeout=10).json()["percent"]) <= percent
    return check


# --- the books runbook's own (its Worker's vars, secrets and R2 bucket) -----------------------------------

BOOKS_TRAFFIC = 30  # requests after a break: the Worker's own metrics need 20 to count a rate


def _deploy_var(name: str, value: str, path: str) -> Act:
    """Deploy the Worker with one var changed (the real wrangler deploy --var), then send the traffic it refuses."""
    def deploy(sb: Layout, spec: WorkerSpec) -> None:
        sb.wrangler("deploy", "--config", spec.config, "--var", f"{name}:{value}",
                    "--message", f"sandbox: {name}={value}", worker=spec)
        sb.wait_live(spec)
        for n in range(BOOKS_TRAFFIC):
            loopback.get(sb.url_of(spec) + path.format(n=n), timeout=30)
    return deploy


def _searches_answer(path: str) -> Check:
    def check(sb: Layout, spec: WorkerSpec) -> bool:
        import uuid


        return loopback.get(sb.dev_url_of(spec) + path.format(n=uuid.uuid4().hex[:8]), timeout=30).status_code == 200
    return check


LEGACY_SEARCH = "/v1/search/title?title=legacy+client+{n}"
SEARCH = "/v1/search/title?q=storm+{n}"
GEMINI_KEY = "GEMINI_API_KEY"
COLD_BUCKET = "api-cache-cold"


def _delete_gemini_key(sb: Layout, spec: WorkerSpec) -> None:
    from ops.cloudflare import delete_secret

    with_client(sb, lambda c: delete_secret(c, spec.script, GEMINI_KEY))
    sb.wait_live(spec)


def _has_gemini_key(sb: Layout, spec: WorkerSpec) -> bool:
    return (sb.health(spec).get("secrets") or {}).get(GEMINI_KEY) is True


def _delete_cold_bucket(sb: Layout, spec: WorkerSpec) -> None:
    with_client(sb, lambda c: c.result("DELETE", f"/r2/buckets/{COLD_BUCKET}"))


def _cold_bucket_exists(sb: Layout, spec: WorkerSpec) -> bool:
    from ops.cloudflare import list_r2

    return any(b.get("name") == COLD_BUCKET for b in with_client(sb, list_r2))


def d1_conditions(sb: Layout, database: str, **change: Any) -> None:
    """Set a D1 database's conditions in the emulator (ops.sandbox.emulator.d1): unavailable, scan_ms."""

    loopback.put(f"{sb.emulator_url}/__emulator/d1-conditions/{database}", json=change, headers=sb.admin_headers,
                 timeout=10).raise_for_status()


def _database_down(sb: Layout, spec: WorkerSpec) -> None:
    d1_conditions(sb, INFRA_DB, unavailable=True)


def end_database_outage(sb: Layout) -> None:
    """What Cloudflare's fix of a D1 outage looks like from the account: the database answers again."""
    d1_conditions(sb, INFRA_DB, unavailable=False)


def _database_connected(sb: Layout, spec: WorkerSpec) -> bool:
    """The D1 API answers SELECT 1 and the Worker's own /health says its database is connected."""
    import httpx

    from ops.errors import ApiError

    try:
        _d1(sb, "SELECT 1 AS ok", database=INFRA_DB)
        body = loopback.get(f"{sb.dev_url_of(spec)}/health", timeout=10).json()
    except (ApiError, httpx.HTTPError, ValueError):
        return False
    return bool((body.get("database") or {}).get("connected"))


STORM = 30  # unique prompts, each a cache miss: with FLUSH_TRAFFIC popular reads, a hit rate well under 30%


def _storm(sb: Layout, spec: WorkerSpec) -> None:
    """A storm of questions nobody asked before (a scraper, a retry loop): every one a miss and a provider call."""
    import uuid

    import httpx

    _flush(sb, spec)
    with httpx.Client(base_url=sb.url_of(spec), timeout=30) as client:
        for _ in range(STORM):
            client.post("/", json={"prompt": f"storm {uuid.uuid4().hex}"})


MANUSCRIPT_INDEX = "idx_manuscripts_owner_id"
FULL_SCAN_MS = 3500  # a full scan of manuscripts at production size: above the runbook's 3 s p95


def _drop_index(sb: Layout, spec: WorkerSpec) -> None:
    """A migration that lost the index: GET /manuscripts now scans the table, which costs FULL_SCAN_MS at size."""
    _d1(sb, f"DROP INDEX IF EXISTS {MANUSCRIPT_INDEX}")
    d1_conditions(sb, MANUSCRIPT_DB, scan_ms={"manuscripts": FULL_SCAN_MS})


def _index_used(sb: Layout, spec: WorkerSpec) -> bool:
    plan = _d1(sb, "EXPLAIN QUERY PLAN SELECT id FROM manuscripts WHERE owner_id = 1")
    return any(MANUSCRIPT_INDEX in str(row.get("detail")) for row in plan)


ENDPOINT_TRAFFIC = (12, 48)  # unauthenticated lists, then uploads: 4 of the 48 uploads fail (8%), 6.7% overall


def _flaky_endpoint(sb: Layout, spec: WorkerSpec) -> None:
    """Deploy a version whose upload endpoint fails on every 12th request, then the traffic users would send."""
    import httpx

    _deploy_module("flaky.mjs", "sandbox: a release with a bug on the upload path")(sb, spec)
    password = sb.credentials_of(spec)["LOGIN_PROBE_PASSWORD"]
    with httpx.Client(base_url=sb.url_of(spec), timeout=30) as client:
        token = client.post("/auth/login", json={"email": MANUSCRIPT_PROBE_EMAIL, "password": password}).json()["token"]
        for _ in range(ENDPOINT_TRAFFIC[0]):
            client.get("/manuscripts")
        for i in range(ENDPOINT_TRAFFIC[1]):
            client.put("/manuscripts/1/upload?name=draft.txt", content=f"draft {i}",
                       headers={"Authorization": f"Bearer {token}"})


def _uploads_work(sb: Layout, spec: WorkerSpec) -> bool:
    """Every one of 24 uploads is stored (the flaky version fails 2 of them)."""
    import httpx

    password = sb.credentials_of(spec)["LOGIN_PROBE_PASSWORD"]
    with httpx.Client(base_url=sb.dev_url_of(spec), timeout=30) as client:
        login = client.post("/auth/login", json={"email": MANUSCRIPT_PROBE_EMAIL, "password": password})
        if login.status_code != 200:
            return False
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        return all(client.put("/manuscripts/1/upload?name=check.txt", content="check", headers=headers).status_code == 201
                   for _ in range(24))


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("cache-flush", "empty the Worker's KV cache, then read popular keys as users would: the hit rate drops",
             "cache-warm", (), _flush, _warm, (BOOKS, AI)),
    Scenario("bad-deploy", "deploy a version that throws on every request, with the real wrangler deploy",
             "rollback", (), _deploy_module("bad.mjs", "sandbox: a bad deploy", _deploy_bad_assets), _answers,
             (BOOKS, PLAIN, MANUSCRIPT, INFRA)),
    Scenario("worker-hang", "deploy a version that accepts every request and never answers",
             "rollback", (), _deploy_module("hang.mjs", "sandbox: a hung deploy"), _answers, (BOOKS, PLAIN, MANUSCRIPT, INFRA, AI)),
    Scenario("partial-regression", "deploy a version that fails about 8% of requests and is about 300 ms slower, "
             f"and start users ({users.RATE:g} requests/s until sandbox.reset): a fixed error-rate threshold of 10% "
             "misses it; a rollback in steps judges it against the previous version over the same minutes "
             "(docs/gradual.md)",
             "rollback", ("--steps", "10,50,100"),
             _with_users(_deploy_module("partial.mjs", "sandbox: a partial regression")), _answers_every_time),
    Scenario("secret-missing", "delete CACHE_WARM_SECRET: cache warming is refused", "secret-rotation",
             ("--name", "CACHE_WARM_SECRET", "--create", "--value", "env:CACHE_WARM_SECRET"),
             _delete_secret, _has_secret),
    Scenario("consumer-detached", "detach the queue consumer: the enrichment backlog grows", "queue-redeploy", (),
             _detach, _consumer_attached, (BOOKS, MANUSCRIPT)),
    Scenario("dead-letters", f"put 8 failed enrichment jobs in the dead-letter queue ({DLQ})", "queue-redeploy",
             ("--replay-dlq",), _dead_letter, _dlq_empty),
    Scenario("analysis-dead-letters", f"manuscripts stuck waiting for analysis, their jobs in {ANALYSIS_DLQ} "
             "(what an analysis outage leaves after the queue's retries)", "queue-redeploy", ("--replay-dlq",),
             _analysis_dead_letters, _analysed, (MANUSCRIPT,)),
    Scenario("provider-slow", "make the first provider in PROVIDER_ORDER slow and failing", "provider-reorder", (),
             _slow_first_provider, _first_provider_fine),
    Scenario("provider-lag", "make the first two providers slow but answering: lookups take over 2 s, the books "
             "runbook's p95", "provider-reorder", (), _lagging_providers, _first_provider_fine),
    Scenario("jwt-secret-missing", "delete the manuscript Worker's JWT_SECRET: every login is refused (503)",
             "jwt-rotation", ("--create",), _delete_secret, _has_secret, (MANUSCRIPT,)),
    Scenario("binding-mismatch", "recreate the api-worker-CACHE KV namespace under a new id: the config's id no longer exists",
             "binding-check", ("--fix",), _recreate_namespace, _config_namespaces_exist),
    Scenario("v1-compat-off", "deploy with ENABLE_V1_COMPAT=false, then v1 clients search: a 4xx spike, "
             "X-Error-Code V1_COMPAT_DISABLED", "rollback", ("--force",), _deploy_var("ENABLE_V1_COMPAT", "false", LEGACY_SEARCH),
             _searches_answer(LEGACY_SEARCH)),
    Scenario("rate-limit-storm", "deploy with RATE_LIMIT_PER_MINUTE=5, then search as usual: 429s from RateLimiterDO, "
             "X-Error-Code RATE_LIMITED", "rollback", ("--force",), _deploy_var("RATE_LIMIT_PER_MINUTE", "5", SEARCH),
             _searches_answer(SEARCH)),
    Scenario("gemini-key-missing", f"delete {GEMINI_KEY}: bookshelf scans answer 503 GEMINI_API_KEY_MISSING",
             "secret-rotation", ("--name", GEMINI_KEY, "--create", "--value", f"env:{GEMINI_KEY}"),
             _delete_gemini_key, _has_gemini_key),
    Scenario("r2-bucket-missing", f"delete the R2 bucket {COLD_BUCKET} that API_CACHE_COLD binds: its writes fail "
             f"(the fix is the manual `wrangler r2 bucket create {COLD_BUCKET}`)", "binding-check", (),
             _delete_cold_bucket, _cold_bucket_exists),
    Scenario("ai-provider-errors", "make the AI Worker's primary provider answer 503 to every request",
             "fallback-providers", (), _fail_primary_ai_provider, _ai_answers, (AI,)),
    Scenario("ai-cache-storm", f"flush the AI cache, then a storm of {STORM} prompts nobody asked before: the hit rate "
             "falls under 30% (70% is normal)", "cache-warm", (), _storm, _warm, (AI,)),
    Scenario("ai-key-invalid", "put a key the primary AI provider refuses as its secret (OPENAI_API_KEY): every "
             "uncached question is refused with a 401, and /providers/status lists the key in rejectedKeys",
             "secret-rotation", ("--name", "OPENAI_API_KEY", "--value", "env:OPENAI_API_KEY"), _wrong_provider_key,
             _provider_keys_accepted, (AI,)),
    Scenario("ai-memory-high", f"debug tracing left on while users paste long texts ({MEMORY_PROMPTS} of "
             f"{MEMORY_PROMPT_KIB} KiB): the Worker's /memory reports over 80% of the isolate's 128 MiB",
             "reduce-cache-size", (), _fill_memory, _memory_under(80), (AI,)),
    Scenario("database-unreachable", "the infrastructure Worker's D1 database greyhaven-db stops answering (D1_ERROR: "
             "Network connection lost); the Worker itself still runs", "d1-outage", (), _database_down,
             _database_connected, (INFRA,)),
    Scenario("slow-d1-query", f"drop the index {MANUSCRIPT_INDEX}: GET /manuscripts scans the table, {FULL_SCAN_MS} ms "
             "at production size (p95 above 3 s)", "d1-index", (), _drop_index, _index_used, (MANUSCRIPT,)),
    Scenario("endpoint-errors", "deploy a release whose upload endpoint (PUT /manuscripts/:id/upload) throws on 8% of "
             "its requests, then the users' traffic", "rollback", (), _flaky_endpoint, _uploads_work, (MANUSCRIPT,)),
)
NAMES = tuple(s.name for s in SCENARIOS)


def find(name: str) -> Scenario:
    if not name:
        raise InputError(f"name a scenario ({command('sandbox.break SCENARIO')}): one of {', '.join(NAMES)}")
    for scenario in SCENARIOS:
        if scenario.name == name:
            return scenario
    raise InputError(f"no scenario {name!r}; choose one of: {', '.join(NAMES)}")


def breakable() -> list[str]:
    """The example Workers some scenario breaks, in the registry's order."""
    return list(dict.fromkeys(w.key for s in SCENARIOS for w in s.workers))


def help_text() -> str:
    def workers(s: Scenario) -> str:
        others = "|".join(w.key for w in s.workers if w is not BOOKS)
        return "" if not others else f", also --worker {others}" if BOOKS in s.workers else f", --worker {others}"
    return ("; ".join(f"{s.name} ({' '.join((s.remediation, *s.flags))}{workers(s)})" for s in SCENARIOS)
            + f". In a Worker's repository, on its own Worker: {', '.join(ANY_WORKER)}")
