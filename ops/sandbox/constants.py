"""The sandbox's fixed values, in one place: account, token, secrets, the example Workers and the ports' offsets.

Every other module of the sandbox reads them from here; the sandbox's targets are
written from them into its own ``.sandbox/targets.toml`` (ops.sandbox.targets_file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ACCOUNT_ID = "5a4db0c5000000000000000000000000"
TOKEN = "sandbox-local-token"


@dataclass(frozen=True)
class WorkerSpec:
    """One example Worker the sandbox deploys and serves."""

    key: str                 # names its ports (PORT_OFFSETS) and its folders under .sandbox/
    script: str              # the Worker's name on the (emulated) account
    example: str             # its folder under examples/
    target: str              # its target in the sandbox's targets file
    secrets: dict[str, str] = field(default_factory=dict, hash=False)
    health_path: str = "/"   # what the sandbox asks to know the Worker answers
    health: str = ""         # the target's health contract, as a targets.toml inline table ("" = the default: / and 200)
    health_status: int = 200  # what the health path answers when the Worker is up
    credentials: dict[str, str] = field(default_factory=dict, hash=False)  # target env that is not a Worker secret
    users: dict[str, str] = field(default_factory=dict, hash=False)  # email -> its password's credential (seeded hashed)
    settings: str = ""       # more of its target, as targets.toml lines: `remediations = [...]`, then [params] tables
    source: Path | None = None   # a Worker's own folder (a team's repository, ops.sandbox.own); None: examples/<example>
    config: str = "wrangler.toml"  # its wrangler config, in that folder
    env: str = ""            # the wrangler environment deployed (--env); "" for the top level
    served: bool = True      # on workerd through wrangler dev; else only deployed when a rehearsal needs it
    description: str = ""   # its target's description

    def wrangler_args(self) -> list[str]:
        return ["--env", self.env] if self.env else []


# The example Workers report their own queue backlog on /metrics/queue: queue-redeploy checks it
# beside Cloudflare's signals.
QUEUE_METRICS = 'metrics_path = "/metrics/queue"\n'
# The books Worker's own names and paths, which the specs' defaults once were, and its runbook's thresholds:
# p95 at most 2 s, a slow provider its usual cause; 4xx above 10% is a symptom.
BOOKS_SETTINGS = """[targets.{target}.params.secret-rotation]
name = "JWT_SECRET"
[targets.{target}.params.jwt-rotation]
name = "JWT_SECRET"
[targets.{target}.params.cache-warm]
kv_key = "book:{{key}}"
check_path = "/v1/books/{{key}}"
# The runbook's warm body is {{"isbns": [...]}}, its cache metrics /admin/cache-metrics.
keys_field = "isbns"
hit_rate_path = "/admin/cache-metrics?window=300"
[targets.{target}.params.rollback]
# Its own request counts: a 4xx spike by X-Error-Code, 429s from RateLimiterDO.
requests_path = "/metrics/requests?window=60"
max_p95_ms = 2000
symptom_4xx_rate = 0.1
# A ladder looks every 5 s, not 15: the sandbox's analytics have no ingestion delay (docs/gradual.md).
interval = 5
[targets.{target}.params.promote]
interval = 5
[targets.{target}.params.provider-reorder]
status_path = "/v1/providers/status"
symptom_p95_ms = 2000
max_p95_ms = 2000
"""
# The books runbook's provider keys, Worker secrets beside the warm and JWT secrets.
BOOKS_PROVIDER_KEYS = {"GEMINI_API_KEY": "sandbox-gemini-key-0000", "ISBNDB_API_KEY": "sandbox-isbndb-key-0000",
                       "GOOGLE_BOOKS_API_KEY": "sandbox-google-books-key-0000"}
BOOKS = WorkerSpec("books", "api-worker", "books-worker", "sandbox",
                   {"CACHE_WARM_SECRET": "sandbox-warm-secret-0000", "JWT_SECRET": "sandbox-jwt-secret-0000",
                    **BOOKS_PROVIDER_KEYS},
                   health_path="/health",
                   health='{ path = "/health", status = 200, version_field = "version_id" }',
                   settings='remediations = ["rollback", "secret-rotation", "jwt-rotation", "cache-warm", "queue-redeploy", '
                            '"provider-reorder", "binding-check", "promote"]\n'
                            "[targets.{target}.params.queue-redeploy]\n"
                            'queue = "enrichment-jobs"\ndead_letter_queue = "enrichment-dlq"\n' + QUEUE_METRICS
                            + BOOKS_SETTINGS,
                   description="the local sandbox: emulated control plane, the books Worker on real workerd")
PLAIN = WorkerSpec("plain", "plain-api", "plain-worker", "sandbox-plain",
                   {"API_KEY": "sandbox-api-key-0000"},
                   # What fits a Worker that knows nothing of this tool: its versions and its secrets.
                   settings='remediations = ["rollback", "secret-rotation", "cache-warm", "provider-reorder"]\n'
                            '[targets.{target}.params.secret-rotation]\nname = "API_KEY"\n',
                   description="the local sandbox's plain Worker: its only contract is answering 200 on /")
# The AI Worker's target settings.
AI_SETTINGS = """remediations = ["fallback-providers", "rollback", "cache-warm", "secret-rotation", "reduce-cache-size"]

[targets.{target}.params.fallback-providers]
admin_secret = "env:ADMIN_SECRET"
config_path = "/config"
status_path = "/providers/status"
sample_path = "/ai/summarize?text=on-call+sample+{{n}}"

[targets.{target}.params.cache-warm]
kv_binding = "CACHE"
check_path = "/ai/summarize?text={{key}}"
hit_rate_path = "/cache/status"
hit_rate_field = "hitRate"
# The AI runbook's thresholds: a hit rate of 70% is normal and under 30% a storm; errors above 5%.
symptom_hit_rate = 0.3
min_hit_rate = 0.7

[targets.{target}.params.rollback]
symptom_error_rate = 0.05
symptom_4xx_rate = 0.1

# Its provider status lists the API keys a provider refuses (401): the secret to rotate.
[targets.{target}.params.secret-rotation]
key_status_path = "/providers/status"
# Without flags, the primary provider's key, from the provider's dashboard through the environment (never generated).
name = "OPENAI_API_KEY"
value = "env:OPENAI_API_KEY"

# The runbook's "memory usage > 80%", from the Worker's own report; "reduce cache size" is its remedy.
[targets.{target}.params.reduce-cache-size]
admin_secret = "env:ADMIN_SECRET"
config_path = "/config"
memory_path = "/memory"
symptom_memory_percent = 80
"""
# The AI providers' keys, Worker secrets the fake providers check (ops.sandbox.provider_keys).
AI_PROVIDER_KEYS = {"OPENAI_API_KEY": "sandbox-openai-key-0000", "ANTHROPIC_API_KEY": "sandbox-anthropic-key-0000",
                    "MISTRAL_API_KEY": "sandbox-mistral-key-0000"}
AI = WorkerSpec("ai", "ai-api", "ai-worker", "sandbox-ai",
                {"ADMIN_SECRET": "sandbox-ai-admin-0000", "CACHE_WARM_SECRET": "sandbox-ai-warm-0000", **AI_PROVIDER_KEYS},
                health_path="/health",
                health='{ path = "/health", status = 200, json = { status = "healthy" }, version_field = "version_id" }',
                settings=AI_SETTINGS,
                description="the local sandbox's AI-enhanced Worker: a primary AI provider with fallbacks, a KV cache, "
                            "a config endpoint")
# The manuscript platform: no /health (an unauthenticated GET /manuscripts answers 401), JWT logins
# checked against D1, and an analysis queue with a dead-letter queue. Its probe user logs in with
# LOGIN_PROBE_PASSWORD (jwt-rotation's login probe); the sandbox seeds it into D1, hashed.
MANUSCRIPT_PROBE_EMAIL = "probe@manuscripts.test"
MANUSCRIPT_SETTINGS = """remediations = ["rollback", "jwt-rotation", "queue-redeploy", "d1-index"]
[targets.{target}.incident]
severity_names = ["Critical", "High", "Medium", "Low"]
impact = ["Authors affected", "Manuscripts affected", "Uploads or analyses lost"]
root_cause = "what made the platform fail (a release, a secret, the database, the queue), and why it was not caught."
action_items = ["Complete the root cause above and review the timeline with the team.",
                "Add or tune the alert that should have paged sooner.",
                "Update docs/runbooks/manuscript.md, or the remediation spec, with what was learned."]
[targets.{target}.params.jwt-rotation]
name = "JWT_SECRET"
probe_email = "%s"
authed_path = "/manuscripts"
users_database = "DB"
# The manuscript runbook's thresholds: errors of 5%% on an endpoint, and a p95 over 3 s, call for the rollback.
[targets.{target}.params.rollback]
symptom_error_rate = 0.05
symptom_p95_ms = 3000
max_p95_ms = 3000
[targets.{target}.params.d1-index]
database = "DB"
query = "SELECT id, title, analysis_status, word_count FROM manuscripts WHERE owner_id = 1 ORDER BY id"
index = "idx_manuscripts_owner_id"
table = "manuscripts"
columns = "owner_id"
[targets.{target}.params.queue-redeploy]
queue = "manuscript-analysis-queue"
dead_letter_queue = "manuscript-analysis-dlq"
""" % MANUSCRIPT_PROBE_EMAIL + QUEUE_METRICS
MANUSCRIPT = WorkerSpec("manuscript", "manuscript-upload-api", "manuscript-worker", "sandbox-manuscript",
                        {"JWT_SECRET": "sandbox-manuscript-jwt-0000"},
                        health_path="/manuscripts", health_status=401,
                        health='{ path = "/manuscripts", status = 401 }',
                        credentials={"LOGIN_PROBE_PASSWORD": "sandbox-probe-password-0000"},
                        users={MANUSCRIPT_PROBE_EMAIL: "LOGIN_PROBE_PASSWORD"},
                        settings=MANUSCRIPT_SETTINGS,
                        description="the local sandbox's manuscript platform: JWT logins on D1 with sessions in KV, "
                                    "uploads in R2, an analysis queue with a dead-letter queue")
MANUSCRIPT_DB = "d1d1d1d1-0000-4000-8000-00000000a001"
ANALYSIS_QUEUE = "manuscript-analysis-queue"
# The infrastructure platform: /health (liveness, with the database's state), D1 greyhaven-db. Its deploy
# failures are rehearsed on copies (tests/e2e/test_infra.py); its runtime ones on the served Worker.
INFRA_SETTINGS = """remediations = ["rollback", "d1-outage", "binding-check"]
[targets.{target}.params.d1-outage]
database = "DB"
"""
INFRA = WorkerSpec("infra", "infra-api", "infra-worker", "sandbox-infra", {"ORIGIN_TOKEN": "sandbox-origin-token-0000"},
                   health_path="/health", health='{ path = "/health", status = 200, version_field = "version_id" }',
                   settings=INFRA_SETTINGS,
                   description="the local sandbox's infrastructure-platform Worker: /health and the D1 database "
                               "greyhaven-db")
INFRA_DB = "d1d1d1d1-0000-4000-8000-00000000c001"
WORKERS: tuple[WorkerSpec, ...] = (BOOKS, PLAIN, AI, MANUSCRIPT, INFRA)
# Kept for callers that mean the books Worker.
WORKER = BOOKS.script
SECRETS = BOOKS.secrets
KV_ID = "b0b0cafe000000000000000000000001"

# Each port's offset from the sandbox's base port (ops.sandbox.ports: OPS_SANDBOX_PORT_BASE, or a free base the
# sandbox chooses). A Worker's public port `<key>` is its recording proxy (the target's worker_url); `<key>_dev`
# is the `wrangler dev` behind it, which only the sandbox calls; `own` is a team's own Worker (ops.sandbox.own).
PORT_OFFSETS: dict[str, int] = {
    "emulator": 0, "google_books": 1, "openlibrary": 2, "isbndb": 3, "openai": 4, "anthropic": 5, "mistral": 6,
    "books": 7, "books_dev": 8, "plain": 9, "plain_dev": 10, "ai": 11, "ai_dev": 12,
    "manuscript": 13, "manuscript_dev": 14, "infra": 15, "infra_dev": 16, "own": 17, "own_dev": 18,
}
PORT_SPAN = 20  # the ports one sandbox holds, from its base
AI_PROVIDERS = ("openai", "anthropic", "mistral")  # the AI Worker's primary, then its fallbacks
PROVIDERS = ("google_books", "openlibrary", "isbndb", *AI_PROVIDERS)


def worker(key_or_script: str) -> WorkerSpec:
    for spec in WORKERS:
        if key_or_script in (spec.key, spec.script, spec.target, spec.example):
            return spec
    from ops.errors import InputError

    raise InputError(f"no sandbox Worker {key_or_script!r}; choose one of: {', '.join(w.key for w in WORKERS)}")
