"""`inv status` and `inv d1.query`: the ad hoc reads behind the runbooks' "check" steps, on any target."""

from __future__ import annotations

from typing import Any

from invoke.collection import Collection
from invoke.tasks import task

from ops.cli.boundary import guarded, out, out_json


@task(name="status", help={"json": "Print one JSON document", "target": "Target from targets.toml"},
      auto_shortflags=False)
@guarded
def status_task(c: Any, json_: bool = False, target: str | None = None) -> None:
    """The live deployment and recent versions, the secrets' names, the bindings (and whether each exists), the last runs."""
    from ops.cloudflare import CloudflareClient
    from ops.engine.journal import default_dir
    from ops.engine.status import worker_status
    from ops.targets import load_target

    chosen = load_target(target)
    client = CloudflareClient.from_target(chosen, read_only=True)
    try:
        status = worker_status(client, chosen.worker, default_dir(), header=chosen.header())
    finally:
        client.close()
    if json_:
        out_json({"target": chosen.header(), **status}, indent=2)
    else:
        out(chosen.header() + "\n" + render_status(status))


def render_status(status: dict[str, Any]) -> str:
    live = status["live"]
    lines = ["", "live deployment: " + ("none (the Worker is not deployed)" if not live else
             f"{live['id']} at {live['created_on']}" + (f" by {live['author']}" if live["author"] else "")
             + (f" ({live['triggered_by']})" if live["triggered_by"] else "")
             + (f": {live['message']!r}" if live["message"] else ""))]
    for share in (live or {}).get("versions", []):
        lines.append(f"  {share['percentage']:g}%  {share['version_id']}")
    lines.append("\nrecent versions (newest first):")
    for v in status["versions"]:
        lines.append(f"  {'*' if v['live'] else ' '} #{v['number']}  {v['id']}  {v['created_on'] or '?'}  "
                     f"{v['author'] or '?'}  {v['source'] or '?'}" + (f"  {v['message']!r}" if v["message"] else ""))
    if not status["versions"]:
        lines.append("  none")
    lines.append("\nsecrets: " + (", ".join(status["secrets"]) or "none"))
    lines.append("bindings of the live version(s):")
    for b in status["bindings"]:
        exists = "" if "exists" not in b else ("  exists" if b["exists"] else "  MISSING")
        lines.append(f"  {b['name']}  {b['type']}" + (f"  {b['resource']}" if "resource" in b else "") + exists)
    if not status["bindings"]:
        lines.append("  none")
    lines.append("\nlast runs in the journal:")
    lines += [f"  {r['started']}  {r['spec']:<18} {r['status']:<12} {r['run']}" for r in status["runs"]] or ["  none"]
    lines += [f"\nnot read: {part}: {why}" for part, why in status["unreadable"].items()]
    return "\n".join(lines)


@task(name="query", positional=["database", "sql"],
      help={"database": "A D1 database id, binding or name (as `wrangler d1 execute DB`)",
            "sql": "One read: SELECT, WITH … SELECT, EXPLAIN or a read-only PRAGMA",
            "json": "Print one JSON document", "target": "Target from targets.toml"}, auto_shortflags=False)
@guarded
def d1_query(c: Any, database: str, sql: str, json_: bool = False, target: str | None = None) -> None:
    """Run one read-only SQL statement against a D1 database (writes are refused before anything is sent)."""
    from ops.actions.base import Context
    from ops.actions.d1 import D1Action, D1Args
    from invoke.exceptions import Exit

    from ops.targets import load_target

    chosen = load_target(target)
    args = D1Args(database=database, sql=sql, max_rows=100)
    ctx = Context(chosen, dry_run=True)
    try:
        result = D1Action().run(args, ctx)
    finally:
        ctx.close()
    if json_:
        out_json({"target": chosen.header(), **result}, indent=2)
    else:
        out(chosen.header() + "\n" + render_rows(result))
    if not result["ok"]:
        raise Exit(code=1)  # an SQL error or an unknown database: an answer, printed above


def render_rows(result: dict[str, Any]) -> str:
    if not result["ok"]:
        return f"\nerror: {result['error']}"
    columns: list[str] = result["columns"]
    if not columns:
        return f"\n{result['row_count']} row(s)"
    table = [columns] + [[_cell(row.get(col)) for col in columns] for row in result["rows"]]
    widths = [max(len(r[i]) for r in table) for i in range(len(columns))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    more = f" (first {len(result['rows'])} shown)" if result["truncated"] else ""
    return "\n" + "\n".join(lines) + f"\n\n{result['row_count']} row(s){more}"


def _cell(value: Any) -> str:
    return "NULL" if value is None else str(value)


def d1_collection() -> Collection:
    return Collection("d1", d1_query)
