"""No dead end after a rollback (issue 21): secret and JWT rotation put the secret on a version built from the
deployed (rolled-back) version, never on the newer, broken one."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from ops.actions.jwt_probe import mint_hs256

from testing.rehearsal import Rehearsal


def version(r: Rehearsal, version_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(v for v in r.state()["scripts"]["api-worker"]["versions"] if v["id"] == version_id)
    return found


def code(r: Rehearsal, version_id: str) -> list[tuple[str, str]]:
    return [(m["name"], m["digest"]) for m in version(r, version_id)["_modules"]]


def good_version_live(r: Rehearsal) -> str:
    """A fresh sandbox (a reset from its snapshot), with the books Worker's secrets as a fresh up puts them."""
    r.reset()
    return str(r.health().json()["version_id"])


def test_after_a_rollback_secret_and_jwt_rotation_build_on_the_rolled_back_version(rehearse: Rehearsal) -> None:
    r = rehearse
    good = good_version_live(r)
    r.sb.break_("bad-deploy")
    bad = r.state()["scripts"]["api-worker"]["versions"][0]["id"]
    assert r.health().status_code == 500 and code(r, bad) != code(r, good)
    assert json.loads(r.inv("remediate.rollback", "--yes", "--json").stdout)["status"] == "ok"

    rotated = r.inv("remediate.secret-rotation", "--yes", "--json", "--name", "CACHE_WARM_SECRET", "--create",
                    "--value", "generate")
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    assert json.loads(rotated.stdout)["message"].startswith("verified: live-is-new-version, answers")
    health = r.health()
    live = health.json()["version_id"]
    assert health.status_code == 200 and live not in (good, bad)
    assert code(r, live) == code(r, good)  # the rolled-back code, with the new secret
    made = version(r, live)
    assert made["annotations"]["workers/message"] == \
        f"secret CACHE_WARM_SECRET put, built from deployed version {version(r, good)['number']}"
    assert made["_secrets"]["CACHE_WARM_SECRET"] != version(r, good)["_secrets"]["CACHE_WARM_SECRET"]
    assert made["_secrets"]["JWT_SECRET"] == version(r, good)["_secrets"]["JWT_SECRET"]  # the others, inherited

    new_jwt = "rotated-after-rollback-jwt"
    jwt = r.inv("remediate.jwt-rotation", "--yes", "--json", "--name", "JWT_SECRET", "--value", "env:NEW_JWT",
                env={"NEW_JWT": new_jwt})
    assert jwt.returncode == 0, jwt.stdout + jwt.stderr
    assert json.loads(jwt.stdout)["message"].startswith("verified: live-is-new-version, answers")
    after = r.health().json()["version_id"]
    assert r.health().status_code == 200 and code(r, after) == code(r, good)
    token = mint_hs256(new_jwt, {"sub": "on-call", "exp": int(time.time()) + 60})
    assert httpx.get(f"{r.sb.worker_url}/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10).status_code == 200
