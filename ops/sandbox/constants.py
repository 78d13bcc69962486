"""The sandbox's fixed values, in one place: account, token, secrets, the example Workers and the ports.

Every other module (the manager, the test handle, the CLI, targets) reads them
from here; `targets.toml`'s sandbox targets repeat them for a fresh clone, and
a test checks that they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ACCOUNT_ID = "5a4db0c5000000000000000000000000"
TOKEN = "sandbox-local-token"


@dataclass(frozen=True)
class WorkerSpec:
    """One example Worker the sandbox deploys and serves."""

    key: str                 # names its ports (OPS_SANDBOX_<KEY>_PORT) and its folders under .sandbox/
    script: str              # the Worker's name on the (emulated) account
    example: str             # its folder under examples/
    target: str              # its target in targets.toml
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

    def wrangler_args(self) -> list[str]:
        return ["--env", self.env] if self.env else []


# The example Workers report their own queue backlog on /metrics/queue: queue-redeploy checks it
# beside Cloudflare's signals (targets.toml repeats these settings; a test keeps them in step).
QUEUE_METRICS = 'metrics_path = "/metrics/queue"\n'
BOOKS = WorkerSpec("books", "books-api", "books-worker", "sandbox",
                   {"CACHE_WARM_SECRET": "sandbox-warm-secret-0000", "JWT_SECRET": "sandbox-jwt-secret-0000"},
                   health_path="/health",
                   health='{ path = "/health", status = 200, version_field = "version_id" }',
                   settings="[targets.{target}.params.queue-redeploy]\n" + QUEUE_METRICS)
PLAIN = WorkerSpec("plain", "plain-api", "plain-worker", "sandbox-plain",
                   {"API_KEY": "sandbox-api-key-0000"})
# The AI Worker's target settings; targets.toml's sandbox-ai repeats them (a test keeps them in step).
AI_SETTINGS = """remediations = ["fallback-providers", "rollback", "cache-warm"]

[targets.{target}.params.fallback-providers]
admin_secret = "env:ADMIN_SECRET"
config_path = "/config"
status_path = "/providers/status"
sample_path = "/ai/summarize?text=on-call+sample+{{n}}"

[targets.{target}.params.cache-warm]
check_path = "/ai/summarize?text={{key}}"
hit_rate_path = "/cache/status"
hit_rate_field = "hitRate"
"""
AI = WorkerSpec("ai", "ai-api", "ai-worker", "sandbox-ai",
                {"ADMIN_SECRET": "sandbox-ai-admin-0000", "CACHE_WARM_SECRET": "sandbox-ai-warm-0000"},
                health_path="/health",
                health='{ path = "/health", status = 200, json = { status = "healthy" }, version_field = "version_id" }',
                settings=AI_SETTINGS)
# The manuscript platform: no /health (an unauthenticated GET /manuscripts answers 401), JWT logins
# checked against D1, and an analysis queue with a dead-letter queue. Its probe user logs in with
# LOGIN_PROBE_PASSWORD (jwt-rotation's login probe); the sandbox seeds it into D1, hashed.
# targets.toml's sandbox-manuscript repeats its settings (a test keeps them in step).
MANUSCRIPT_PROBE_EMAIL = "probe@manuscripts.test"
MANUSCRIPT_SETTINGS = """remediations = ["rollback", "jwt-rotation", "queue-redeploy"]
[targets.{target}.params.jwt-rotation]
probe_email = "%s"
authed_path = "/manuscripts"
users_database = "DB"
[targets.{target}.params.queue-redeploy]
queue = "manuscript-analysis"
dead_letter_queue = "manuscript-analysis-dlq"
""" % MANUSCRIPT_PROBE_EMAIL + QUEUE_METRICS
MANUSCRIPT = WorkerSpec("manuscript", "manuscript-api", "manuscript-worker", "sandbox-manuscript",
                        {"JWT_SECRET": "sandbox-manuscript-jwt-0000"},
                        health_path="/manuscripts", health_status=401,
                        health='{ path = "/manuscripts", status = 401 }',
                        credentials={"LOGIN_PROBE_PASSWORD": "sandbox-probe-password-0000"},
                        users={MANUSCRIPT_PROBE_EMAIL: "LOGIN_PROBE_PASSWORD"},
                        settings=MANUSCRIPT_SETTINGS)
MANUSCRIPT_DB = "d1d1d1d1-0000-4000-8000-00000000a001"
# Not served: its rehearsals are deploys (tests/e2e/test_infra.py), which need the control plane only.
INFRA = WorkerSpec("infra", "infra-api", "infra-worker", "sandbox-infra", {"ORIGIN_TOKEN": "sandbox-origin-token-0000"},
                   served=False, settings='remediations = ["binding-check"]\n')
WORKERS: tuple[WorkerSpec, ...] = (BOOKS, PLAIN, AI, MANUSCRIPT, INFRA)
# Kept for callers that mean the books Worker.
WORKER = BOOKS.script
SECRETS = BOOKS.secrets
KV_ID = "b0b0cafe000000000000000000000001"

# name -> default port. The Worker's public port is its recording proxy (the target's
# worker_url); `<key>_dev` is the `wrangler dev` behind it, which only the sandbox calls.
DEFAULT_PORTS: dict[str, int] = {
    "emulator": 18700, "google_books": 18701, "openlibrary": 18702, "isbndb": 18703,
    "books": 18787, "books_dev": 18788, "plain": 18789, "plain_dev": 18790,
    "openai": 18710, "anthropic": 18711, "mistral": 18712, "ai": 18797, "ai_dev": 18798,
    "manuscript": 18795, "manuscript_dev": 18796,
    "infra": 18791, "infra_dev": 18792,
}
# The team's own Worker (ops.sandbox.own), when the sandbox runs in a Worker's repository.
OWN_PORTS: dict[str, int] = {"own": 18785, "own_dev": 18786}
AI_PROVIDERS = ("openai", "anthropic", "mistral")  # the AI Worker's primary, then its fallbacks
PROVIDERS = ("google_books", "openlibrary", "isbndb", *AI_PROVIDERS)


def worker(key_or_script: str) -> WorkerSpec:
    for spec in WORKERS:
        if key_or_script in (spec.key, spec.script, spec.target, spec.example):
            return spec
    from ops.errors import InputError

    raise InputError(f"no sandbox Worker {key_or_script!r}; choose one of: {', '.join(w.key for w in WORKERS)}")
