"""A sandbox Worker's D1 data: its migrations and its users, applied through the D1 API as a team would.

The migrations are the example's own ``migrations/*.sql`` (written idempotently), sent to
``POST /d1/database/{id}/query`` as ``wrangler d1 migrations apply --remote`` sends them. Users
get the password from the target's credentials, hashed as the Worker hashes it
(``examples/manuscript-worker/src/auth.js``: PBKDF2-SHA256), so the password itself is never stored.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tomllib
from typing import Any

from ops.sandbox.constants import WorkerSpec
from ops.sandbox.layout import Layout

ITERATIONS = 100_000  # the most PBKDF2 iterations the Workers runtime allows


def password_hash(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt if salt is not None else os.urandom(16)
    derived = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    return f"pbkdf2${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(derived).decode()}"


def seed(sandbox: Layout, spec: WorkerSpec) -> None:
    databases = _databases(sandbox, spec)
    if not databases:
        return
    migrations = sorted((sandbox.dir_of(spec) / "migrations").glob("*.sql"))
    client = sandbox.client()
    try:
        for database in databases:
            for migration in migrations:
                _query(client, database, {"sql": migration.read_text(encoding="utf-8")})
        credentials = sandbox.credentials_of(spec)
        for number, (email, source) in enumerate(spec.users.items(), start=1):
            _query(client, databases[0], {"sql": "INSERT OR REPLACE INTO users (id, email, password_hash) VALUES (?, ?, ?)",
                                          "params": [number, email, password_hash(credentials[source])]})
    finally:
        client.close()


def _databases(sandbox: Layout, spec: WorkerSpec) -> list[str]:
    """The D1 ids an example binds; none for a team's own Worker (its data is its own business)."""
    if spec.source is not None or sandbox.config_of(spec).suffix != ".toml":
        return []
    config = tomllib.loads(sandbox.config_of(spec).read_text(encoding="utf-8"))
    return [str(d["database_id"]) for d in config.get("d1_databases", []) if d.get("database_id")]


def _query(client: Any, database: str, body: dict[str, Any]) -> None:
    client.result("POST", f"/d1/database/{database}/query", json=body)
