"""What a rollback drags along, shown before it: secrets by name, bindings, compatibility, the migration tag; and a
target older than a secret change is refused unless --accept-secret-changes (docs/rollback-preflight.md)."""

from __future__ import annotations

import json

from ops.sandbox.emulator import EmulatorHandle
from tests.cloudflare.uploads import upload
from testing.workspace import CANARY, Workspace
from tests.engine.test_rollback_preflight import SCRIPT, TOKEN, api, emulator, rollback  # noqa: F401 (fixtures)


def versions(emulator: EmulatorHandle) -> tuple[str, str]:
    """An old version, then a new one; its secret added, then rotated (each a version of its own, live): the rotation,
    not the addition, is a secret change the old version would undo."""
    old = upload(emulator.api_base_url, SCRIPT, compatibility_date="2026-01-01", token=TOKEN,
                 bindings=[{"type": "plain_text", "name": "MODE", "text": "a"}])
    upload(emulator.api_base_url, SCRIPT, compatibility_date="2026-04-01", flags=["nodejs_compat"], token=TOKEN,
           bindings=[{"type": "plain_text", "name": "MODE", "text": "b"}, {"type": "plain_text", "name": "NEW", "text": "x"}])
    for value in (f"{CANARY}-first", f"{CANARY}-rotated"):
        api(emulator, "PUT", f"/workers/scripts/{SCRIPT}/secrets", json={"name": "API_KEY", "text": value, "type": "secret_text"})
    listed = api(emulator, "GET", f"/workers/scripts/{SCRIPT}/versions", params={"deployable": "true"})["items"]
    by_number = sorted(listed, key=lambda v: v["number"])
    return by_number[0]["id"], by_number[-1]["id"]


def test_a_target_older_than_a_secret_change_is_refused_unless_accepted(rollback: Workspace,
                                                                        emulator: EmulatorHandle) -> None:
    versions(emulator)
    refused = rollback.inv("remediate.rollback", "--force", "--dry-run")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "precondition 'no-secret-rotated-since' failed: a secret was changed (rotated) after the target" in refused.stdout
    assert "--accept-secret-changes" in refused.stdout
    accepted = rollback.inv("remediate.rollback", "--force", "--dry-run", "--accept-secret-changes")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_the_plan_shows_what_the_target_brings_back_never_a_secret_value(rollback: Workspace,
                                                                         emulator: EmulatorHandle) -> None:
    old, live = versions(emulator)
    plan = rollback.inv("remediate.rollback", "--force", "--dry-run", "--json", "--accept-secret-changes",
                        "--version", old)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert CANARY not in plan.stdout
    diff = next(r for r in json.loads(plan.stdout)["records"] if r["name"] == "drags-along")["outputs"]["result"]
    assert diff["secrets"]["only_live"] == ["API_KEY"] and diff["secrets"]["only_target"] == []
    assert diff["secrets"]["changed_since_target"] == ["secret API_KEY put"]
    assert diff["bindings"] == {"only_live": ["NEW"], "only_target": [], "changed": []}  # values are not compared
    assert diff["compatibility_date"] == {"live": "2026-04-01", "target": "2026-01-01", "changed": True}
    assert diff["compatibility_flags"] == {"only_live": ["nodejs_compat"], "only_target": []}
    assert diff["migration_tag"]["changed"] is False
    assert diff["unversioned"].startswith("routes, custom domains and cron triggers are not versioned")
