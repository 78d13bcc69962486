"""The redactor knows every secret in play (issue 24, point 6): a Worker that logs "boom with key " + env.API_KEY
never has the key printed by `inv logs` (text or --json), whether the key is in the target's `env` table or in the
`.dev.vars` beside its wrangler config; `inv incident.report` masks it too."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from ops.sandbox.emulator import start_emulator
from testing.workspace import Workspace, make_workspace
from tests.fakes.shim_console import console_header

ACCOUNT, TOKEN, SCRIPT = "5a4db0c5000000000000000000000000", "logs-test-token-0000", "boom-api"
API_KEY = "worker-api-key-7f3e9d"


class Boom:
    """A Worker that throws with its key in the message, as wrangler dev prints a console.error."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(500)
                self.send_header("x-sandbox-console", console_header(("error", f"boom with key {API_KEY}")))
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def emulated(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    worker = Boom()
    seed = {"scripts": {SCRIPT: {"deployments": [{"versions": [{"version_id": "v-live", "percentage": 100}]}]}}}
    handle = start_emulator(tmp_path / "state.json", seed=seed, token=TOKEN)
    proxy = handle.add_proxy(SCRIPT, worker.url)
    yield handle, proxy.url
    handle.stop()
    worker.stop()


def _workspace(root: Path, handle: Any, proxy: str, where: str) -> Workspace:
    ws = make_workspace(root, proxy, api_base_url=handle.api_base_url)
    targets = Path(ws.env["OPS_TARGETS_FILE"])
    text = targets.read_text().replace('worker = "api-worker"', f'worker = "{SCRIPT}"').replace(
        'token = "canary-5f0e1d2c-DO-NOT-LEAK-7a9b-token"', f'token = "{TOKEN}"\ntoken_is_public = true')
    if where == "env":
        text += f'env = {{ API_KEY = "{API_KEY}" }}\n'
    else:
        (root / "worker").mkdir()
        (root / "worker" / "wrangler.toml").write_text(f'name = "{SCRIPT}"\n')
        (root / "worker" / ".dev.vars").write_text(f'API_KEY="{API_KEY}"\n')
        text += 'wrangler_config = "worker/wrangler.toml"\n'
    targets.write_text(text)
    return ws


def _traffic(handle: Any, proxy: str) -> threading.Thread:
    def run() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            requests = httpx.get(f"{handle.url}/__emulator/requests", headers=handle.admin_headers, timeout=5).json()
            if any(r["method"] == "POST" and r["path"].endswith("/tails") for r in requests):
                break
            time.sleep(0.05)
        time.sleep(0.3)
        for _ in range(2):
            httpx.get(f"{proxy}/explode", timeout=5)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("where", ["env", "dev-vars"])
@pytest.mark.parametrize("json_", [False, True])
def test_inv_logs_never_prints_a_key_the_worker_logs(tmp_path: Path, emulated: tuple[Any, str], where: str,
                                                    json_: bool) -> None:
    handle, proxy = emulated
    ws = _workspace(tmp_path, handle, proxy, where)
    traffic = _traffic(handle, proxy)
    done = ws.inv("logs", "--seconds", "3", *(["--json"] if json_ else []))
    traffic.join()
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "boom with key" in output  # the event and its console line arrived: the key would have been there
    assert API_KEY not in output


def test_incident_report_masks_a_target_secret_in_an_older_journal(tmp_path: Path, emulated: tuple[Any, str]) -> None:
    handle, proxy = emulated
    ws = _workspace(tmp_path, handle, proxy, "env")
    journal = Path(ws.env["OPS_JOURNAL_DIR"])
    journal.mkdir(parents=True)
    events = [{"ts": "2026-12-05T03:00:00+00:00", "run": "r1", "event": "run-start", "spec": "rollback", "mode": "run"},
              {"ts": "2026-12-05T03:00:01+00:00", "run": "r1", "event": "noop", "reason": f"boom with key {API_KEY}"},
              {"ts": "2026-12-05T03:00:02+00:00", "run": "r1", "event": "run-end", "status": "noop"}]
    (journal / "20261205T030000Z-rollback-r1.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    done = ws.inv("incident.report", "latest")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "boom with key" in done.stdout  # the line is in the report: the key would have been there
    assert API_KEY not in done.stdout + done.stderr


def test_the_sandboxs_live_dev_vars_are_registered_and_plain_settings_are_not(tmp_path: Path) -> None:
    from ops import redact
    from ops.targets import load_target

    live = tmp_path / ".sandbox" / "live" / SCRIPT
    live.mkdir(parents=True)
    (live / ".dev.vars").write_text("# live version v1\nROTATED='rotated-secret-5e6f'\nDEBUG=true\nPORT=8787\n")
    targets = tmp_path / "targets.toml"
    targets.write_text(f'[targets.t]\napi_base_url = "http://127.0.0.1:9"\naccount_id = "{ACCOUNT}"\ntoken = "{TOKEN}"\n'
                       f'worker = "{SCRIPT}"\nworker_url = "http://127.0.0.1:9"\n')
    load_target("t", path=targets)
    assert redact.redact("rotated-secret-5e6f DEBUG=true PORT=8787") == f"{redact.registry.marker} DEBUG=true PORT=8787"
