"""`inv status` on the sandbox: what is live, its versions, secrets' names, bindings that exist or not, the last runs."""

from __future__ import annotations

import json

from testing.workspace import CANARY
from testing.rehearsal import Rehearsal


def status(r: Rehearsal) -> dict:
    done = r.inv("status", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    return dict(json.loads(done.stdout))


def test_status_shows_the_live_version_its_secrets_and_bindings(rehearse: Rehearsal) -> None:
    r = rehearse
    r.reset()
    seen = status(r)
    assert seen["unreadable"] == {}
    [share] = seen["live"]["versions"]
    assert share["percentage"] == 100
    live = [v for v in seen["versions"] if v["live"]]
    assert [v["id"] for v in live] == [share["version_id"]] and live[0]["number"] >= 1
    assert {"CACHE_WARM_SECRET", "JWT_SECRET"} <= set(seen["secrets"])
    cache = next(b for b in seen["bindings"] if b["binding"] == "CACHE")
    assert cache["type"] == "kv_namespace" and cache["exists"] is True
    text = r.inv("status")
    assert text.returncode == 0 and "live deployment:" in text.stdout and "CACHE  kv_namespace" in text.stdout
    assert CANARY not in text.stdout


def test_status_marks_a_binding_whose_namespace_is_gone(rehearse: Rehearsal) -> None:
    r = rehearse
    r.reset()
    r.break_("binding-mismatch")
    try:
        seen = status(r)
        cache = next(b for b in seen["bindings"] if b["binding"] == "CACHE")
        assert cache["exists"] is False
        assert "MISSING" in r.inv("status").stdout
    finally:
        r.reset()


def test_status_lists_this_workers_runs_from_the_journal_newest_first(rehearse: Rehearsal) -> None:
    r = rehearse
    journal = r.handle.home / "journal"
    journal.mkdir(exist_ok=True)
    header = json.loads(r.inv("status", "--json").stdout)["target"]
    lines = {"29991231T000001Z-rollback-aaaa": (header, "ok"),
             "29991231T000002Z-cache-warm-bbbb": ("target other: worker someone-else at http://x (…)", "ok"),
             "29991231T000003Z-secret-rotation-cccc": (header, "failed")}
    for run, (target, end) in lines.items():
        spec = run.split("-", 1)[1].rsplit("-", 1)[0]
        events = [{"ts": "2026-12-05T00:00:00Z", "event": "run-start", "run": run, "spec": spec, "target": target},
                  {"ts": "2026-12-05T00:00:09Z", "event": "run-end", "run": run, "status": end}]
        (journal / f"{run}.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    try:
        runs = [x for x in status(r)["runs"] if x["run"] in lines]  # other tests share this journal; these are dated to sort newest
        assert [(x["spec"], x["status"]) for x in runs] == [("secret-rotation", "failed"), ("rollback", "ok")]
    finally:
        for run in lines:
            (journal / f"{run}.jsonl").unlink()


def test_status_of_a_worker_that_was_never_deployed_says_so(rehearse: Rehearsal) -> None:
    done = rehearse.inv("status", "--json", env={"OPS_TARGET": "sandbox-infra"})
    assert done.returncode == 0, done.stdout + done.stderr
    seen = json.loads(done.stdout)
    if seen["live"] is None:  # the infrastructure Worker is copied, not deployed, until a rehearsal deploys it
        assert seen["versions"] == [] and seen["bindings"] == [] and seen["secrets"] == []
        assert "none (the Worker is not deployed)" in rehearse.inv("status", env={"OPS_TARGET": "sandbox-infra"}).stdout
    else:  # an infrastructure rehearsal in this sandbox deployed it first
        assert seen["live"]["versions"] and seen["versions"]
