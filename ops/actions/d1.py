"""`d1`: one read-only SQL statement through the D1 query API, as `wrangler d1 execute --remote` sends it.

POST ``/accounts/{account}/d1/database/{id}/query`` with ``{"sql", "params"}``; the
result is one ``{results, success, meta}`` per statement (cloudflare-typescript
``src/resources/d1/database/database.ts``: ``query``, ``QueryResult``; wrangler 4.86
``src/d1/execute.ts``: ``d1ApiPost(…, "query", {sql})``).

Only a read runs, in a plan and in a real run alike, whatever effect the spec
declares: the SQL itself is parsed (``ops.read_only_sql``) and anything but one
SELECT, WITH … SELECT, EXPLAIN or read-only PRAGMA is bad input (exit 2). The
request then goes through a client that is read-only at the transport and lets
through only D1 query POSTs whose body it re-checks the same way.

``database`` is a database id, or a binding or database name from the target's
wrangler config (`DB`, as in `wrangler d1 execute DB`), or a name the API lists.
An SQL error or an unknown database is an observation (``ok: false`` with
``error``); an API that does not answer leaves the probe unable to observe.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.documents.shape import BOOLEAN, INTEGER, NUMBER, STRING, array, mapping, nullable, record

UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.IGNORECASE)


class D1Args(Args):
    database: str = Field(description="A D1 database id, or a binding or database name (`DB`) from the target's "
                                      "wrangler config, or a database name in the account.")
    sql: str = Field(description="One read: SELECT, WITH … SELECT, EXPLAIN, or a read-only PRAGMA.")
    params: list[str] = Field(default_factory=list, description="Values bound to `?` in order (strings, as the API "
                                                              "types them; SQLite's affinity compares '5' with 5).")
    max_rows: int = Field(100, ge=1, le=10_000, description="Rows kept in the outputs (row_count counts all).")


class D1Action(Action):
    name = "d1"
    Args = D1Args
    summary = "One read-only SQL statement against a D1 database (the D1 query API)."
    outputs = record(ok=BOOLEAN, error=nullable(STRING), code=nullable(INTEGER), database=STRING, kind=STRING,
                     rows=array(mapping()), row_count=INTEGER, columns=array(STRING), first=nullable(mapping()),
                     truncated=BOOLEAN, duration_ms=nullable(NUMBER), rows_read=nullable(INTEGER))

    def describe(self, args: D1Args) -> str:
        return f"d1 {args.database}: {args.sql}"

    def preflight(self, args: D1Args) -> Outputs | None:
        return {"kind": _require_read(args.sql)}

    def run(self, args: D1Args, ctx: Context) -> Outputs:
        from ops.errors import ApiError

        kind = _require_read(args.sql)
        client = d1_client(ctx)
        try:
            database = resolve_database(client, ctx, args.database)
            statements = client.result("POST", f"/d1/database/{database}/query",
                                       json={"sql": args.sql, "params": list(args.params)})
        except ApiError as exc:
            return {"ok": False, "error": f"{exc.message} [code: {exc.code}]", "code": exc.code, "database": args.database,
                    "kind": kind, "rows": [], "row_count": None, "columns": [], "first": None, "truncated": False,
                    "duration_ms": None, "rows_read": None}
        finally:
            client.close()
        return _observed(statements, database, kind, args.max_rows)


def d1_client(ctx: Context) -> Any:
    """A Cloudflare client that can send nothing but reads, and D1 queries its transport judges reads."""
    from ops import http, redact
    from ops.cloudflare import CloudflareClient

    target = ctx.target
    if not target.token_is_public:
        redact.register(target.token)
    # The transport given is itself the read-only wall (with D1 reads); the client must not wrap it again.
    return CloudflareClient(target.account_id, target.token, base_url=target.api_base_url, read_only=False,
                            transport=http.read_only_transport(d1_reads=True))


def resolve_database(client: Any, ctx: Context, key: str) -> str:
    if UUID.match(key):
        return key
    configured = _from_wrangler_config(ctx, key)
    if configured:
        return configured
    for database in client.pages("/d1/database", params={"name": key}):
        if database.get("name") == key:
            return str(database["uuid"])
    from ops.errors import InputError

    raise InputError(f"d1: no database {key!r}: not an id, not a binding or database_name in the target's wrangler "
                     "config, and not a database name in the account (`wrangler d1 list`)")


def _from_wrangler_config(ctx: Context, key: str) -> str | None:
    path = ctx.target.wrangler_config
    if path is None or not path.is_file():
        return None
    from ops.documents.wrangler_config import effective, load_config

    for entry in effective(load_config(path), ctx.target.wrangler_environment).data.get("d1_databases") or []:
        if isinstance(entry, dict) and key in (entry.get("binding"), entry.get("database_name")) and entry.get("database_id"):
            return str(entry["database_id"])
    return None


def _require_read(sql: str) -> str:
    from ops.errors import InputError
    from ops.read_only_sql import NotARead, require_read

    try:
        return require_read(sql)
    except NotARead as exc:
        raise InputError(f"d1: refused {sql.strip()[:80]!r}: {exc}") from None


def _observed(statements: Any, database: str, kind: str, max_rows: int) -> Outputs:
    result = statements[0] if isinstance(statements, list) and statements else {}
    rows = result.get("results") or []
    meta = result.get("meta") or {}
    return {"ok": bool(result.get("success", True)), "error": None, "code": None, "database": database, "kind": kind,
            "rows": rows[:max_rows], "row_count": len(rows), "columns": list(rows[0]) if rows else [],
            "first": rows[0] if rows else None, "truncated": len(rows) > max_rows,
            "duration_ms": meta.get("duration"), "rows_read": meta.get("rows_read")}
