"""Safety across machines: two rollbacks that share no lock race against one account; production changes once.

The lock is per machine (a file under the journal folder). Here each run has its own
journal folder, as two laptops would. Run B reads the live deployment first, then spends
a few seconds on its health evidence (its target's health contract is a status page that
takes 3 s to say 503); run A rolls back meanwhile. B's re-read immediately before its
write sees A's deployment and refuses (exit 3) instead of deploying a second time (which,
by wrangler's rule, would have rolled back to the bad version).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from testing.workspace import REPO
from testing.rehearsal import Rehearsal


def _start(r: Rehearsal, journal: Path, targets: Path) -> subprocess.Popen[str]:
    env = {**r.handle.ops_env(OPS_TARGET=r.worker.target), "OPS_JOURNAL_DIR": str(journal),
           "OPS_TARGETS_FILE": str(targets)}
    return subprocess.Popen([sys.executable, "-m", "invoke", "--search-root", str(REPO), "remediate.rollback", "--yes",
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=r.handle.home)


@pytest.fixture
def slow_status_page() -> Iterator[str]:
    class Slow(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(3)
            self.send_response(503)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Slow)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_two_rollbacks_without_a_shared_lock_change_production_once(rehearse: Rehearsal, tmp_path: Path,
                                                                     slow_status_page: str) -> None:
    r = rehearse
    r.reset()
    good = r.state()["scripts"]["api-worker"]["deployments"][0]["versions"][0]["version_id"]
    r.break_("bad-deploy")
    before = len(r.requests())
    slow = tmp_path / "slow-targets.toml"  # laptop B: the same account and Worker; its health contract is slow
    slow.write_text(Path(r.handle.targets).read_text().replace(f'worker_url = "{r.url}"',
                                                               f'worker_url = "{slow_status_page}"'))
    second = _start(r, tmp_path / "laptop-b", slow)
    first = _start(r, tmp_path / "laptop-a", Path(r.handle.targets))
    out_a, err_a = first.communicate(timeout=300)
    out_b, err_b = second.communicate(timeout=300)
    a, b = json.loads(out_a), json.loads(out_b)
    assert (first.returncode, a["status"]) == (0, "ok"), out_a + err_a
    assert (second.returncode, b["status"]) == (3, "stale-plan"), out_b + err_b
    assert "refused before 'deploy-target': the state changed while this run was going" in b["message"]
    deployments = [q for q in r.requests()[before:] if q["method"] == "POST" and q["path"].endswith("/deployments")]
    assert len(deployments) == 1  # production changed exactly once
    assert r.state()["scripts"]["api-worker"]["deployments"][0]["versions"][0]["version_id"] == good
    [journal_b] = (tmp_path / "laptop-b").glob("*.jsonl")
    rechecks = [json.loads(line) for line in journal_b.read_text().splitlines() if '"recheck"' in line]
    assert rechecks and rechecks[-1]["outcome"] == "changed"
