"""What one verified rollback spends of Cloudflare's API quotas: REST (1,200 per 5 minutes) and GraphQL (300 per 5 minutes).

A sandbox (the emulated API, the Worker on real workerd) is broken with `bad-deploy`
(the real `wrangler deploy` of a failing version), then `inv remediate.rollback --yes`
runs until verified. The emulator records every API request; this counts them, split
into GraphQL queries and REST calls, for the rollback alone and from the break on,
and says what share of each quota that is. Target: under 25% of each.

    python bench/api_spend.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import PYTHON, REPO, write_result  # noqa: E402

REST_QUOTA, GRAPHQL_QUOTA, TARGET_SHARE = 1200, 300, 0.25
GRAPHQL = "/client/v4/graphql"


def recorded(emulator_url: str) -> list[dict[str, Any]]:
    return list(httpx.get(f"{emulator_url}/__emulator/requests", timeout=10).json())


def spent(requests: list[dict[str, Any]]) -> dict[str, Any]:
    graphql = sum(1 for r in requests if r["path"] == GRAPHQL)
    rest = len(requests) - graphql
    return {"rest": rest, "graphql": graphql,
            "rest_share": round(rest / REST_QUOTA, 4), "graphql_share": round(graphql / GRAPHQL_QUOTA, 4),
            # a GraphQL query counts toward the general 1,200 as well ("That rate limit is applied in addition")
            "general_share": round((rest + graphql) / REST_QUOTA, 4)}


def rollback(handle: Any) -> dict[str, Any]:
    done = subprocess.run([PYTHON, "-m", "invoke", "--search-root", str(REPO), "remediate.rollback", "--yes", "--json"],
                          env=handle.ops_env(), capture_output=True, text=True)
    result: dict[str, Any] = json.loads(done.stdout or "{}")
    if done.returncode != 0 or result.get("status") != "ok":
        raise SystemExit(f"the rollback did not verify ({done.returncode}): {done.stdout[-1500:]}{done.stderr[-1500:]}")
    return result


def main() -> None:
    from ops.sandbox.constants import BOOKS, PLAIN
    from ops.sandbox.testing import SandboxHandle

    handle = SandboxHandle(workers=(BOOKS, PLAIN))
    try:
        emulator = handle.sandbox.emulator_url
        before_break = len(recorded(emulator))
        handle.sandbox.break_("bad-deploy")
        before_rollback = len(recorded(emulator))
        result = rollback(handle)
        seen = recorded(emulator)
    finally:
        handle.stop()
    ours, whole = spent(seen[before_rollback:]), spent(seen[before_break:])
    figures = [
        {"what": "inv remediate.rollback, REST calls (share of 1,200 / 5 min)",
         "value": f"{ours['rest']} ({ours['rest_share']:.1%})", "met": ours["rest_share"] < TARGET_SHARE},
        {"what": "inv remediate.rollback, GraphQL queries (share of 300 / 5 min)",
         "value": f"{ours['graphql']} ({ours['graphql_share']:.1%})", "met": ours["graphql_share"] < TARGET_SHARE},
        {"what": "from the break (wrangler deploy included) to verified, REST / GraphQL",
         "value": f"{whole['rest']} ({whole['rest_share']:.1%}) / {whole['graphql']} ({whole['graphql_share']:.1%})",
         "met": whole["rest_share"] < TARGET_SHARE and whole["graphql_share"] < TARGET_SHARE},
    ]
    print(write_result("api_spend", {"rollback": ours, "break_to_verified": whole,
                                     "message": result.get("message"), "figures": figures}))
    for figure in figures:
        print(f"{figure['what']}: {figure['value']} {'(under 25%)' if figure['met'] else '(OVER 25%)'}")


if __name__ == "__main__":
    main()
