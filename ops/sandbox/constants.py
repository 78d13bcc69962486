"""The sandbox's fixed values, in one place: account, token, secrets, the example Workers and the ports.

Every other module (the manager, the test handle, the CLI, targets) reads them
from here; `targets.toml`'s sandbox targets repeat them for a fresh clone, and
a test checks that they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    served: bool = True      # on workerd through wrangler dev; else only deployed when a rehearsal needs it
    remediations: str = ""   # the target's remediations list, as a TOML array ("" = all of them)


BOOKS = WorkerSpec("books", "books-api", "books-worker", "sandbox",
                   {"CACHE_WARM_SECRET": "sandbox-warm-secret-0000", "JWT_SECRET": "sandbox-jwt-secret-0000"},
                   health_path="/health",
                   health='{ path = "/health", status = 200, version_field = "version_id" }')
PLAIN = WorkerSpec("plain", "plain-api", "plain-worker", "sandbox-plain",
                   {"API_KEY": "sandbox-api-key-0000"})
# Not served: its rehearsals are deploys (tests/e2e/test_infra.py), which need the control plane only.
INFRA = WorkerSpec("infra", "infra-api", "infra-worker", "sandbox-infra", {"ORIGIN_TOKEN": "sandbox-origin-token-0000"},
                   served=False, remediations='["binding-check"]')
WORKERS: tuple[WorkerSpec, ...] = (BOOKS, PLAIN, INFRA)
# Kept for callers that mean the books Worker.
WORKER = BOOKS.script
SECRETS = BOOKS.secrets
KV_ID = "b0b0cafe000000000000000000000001"
PLAIN_KV_ID = "b0b0cafe000000000000000000000002"
INFRA_KV_ID = "b0b0cafe000000000000000000000003"

# name -> default port. The Worker's public port is its recording proxy (the target's
# worker_url); `<key>_dev` is the `wrangler dev` behind it, which only the sandbox calls.
DEFAULT_PORTS: dict[str, int] = {
    "emulator": 18700, "google_books": 18701, "openlibrary": 18702, "isbndb": 18703,
    "books": 18787, "books_dev": 18788, "plain": 18789, "plain_dev": 18790, "infra": 18791, "infra_dev": 18792,
}
PROVIDERS = ("google_books", "openlibrary", "isbndb")


def worker(key_or_script: str) -> WorkerSpec:
    for spec in WORKERS:
        if key_or_script in (spec.key, spec.script, spec.target, spec.example):
            return spec
    from ops.errors import InputError

    raise InputError(f"no sandbox Worker {key_or_script!r}; choose one of: {', '.join(w.key for w in WORKERS)}")
