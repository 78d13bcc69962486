"""The emulator's D1 runs on real SQLite: the real `wrangler d1 create / list / execute --remote` work on it,
and the `d1` probe reads what wrangler wrote."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from ops.actions.base import Context
from ops.actions.d1 import D1Action, D1Args
from ops.sandbox.emulator import EmulatorHandle, start_emulator
from ops.targets import Target
from testing.workspace import REPO

WRANGLER = REPO / "node_modules" / ".bin" / "wrangler"
ACCOUNT, TOKEN = "5a4db0c5000000000000000000000000", "d1-wrangler-token-0000"
pytestmark = pytest.mark.skipif(not WRANGLER.exists(), reason="npm wrangler is not installed (./scripts/bootstrap; CI installs it)")


class World:
    def __init__(self, tmp: Path) -> None:
        self.handle: EmulatorHandle = start_emulator(tmp / "state" / "state.json", account_id=ACCOUNT, token=TOKEN)
        self.project = tmp / "project"
        self.project.mkdir()
        (self.project / "index.js").write_text("export default { fetch() { return new Response('ok') } }\n")
        self.config = self.project / "wrangler.toml"
        self.config.write_text('name = "manuscript-api"\nmain = "index.js"\ncompatibility_date = "2026-04-01"\n')
        self.env = {**os.environ, "CLOUDFLARE_API_BASE_URL": self.handle.api_base_url, "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
                    "CLOUDFLARE_API_TOKEN": TOKEN, "WRANGLER_SEND_METRICS": "false", "CI": "true",
                    "HOME": str(tmp / "home"), "XDG_CONFIG_HOME": str(tmp / "home" / ".config")}

    def wrangler(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(WRANGLER), *args], cwd=self.project, env=self.env, capture_output=True, text=True,
                              timeout=120)
        assert (done.returncode == 0) == ok, done.stdout + done.stderr
        return done

    def json(self, *args: str) -> Any:
        out = self.wrangler(*args).stdout
        return json.loads(out[out.index("["):])

    def probe(self, database: str, sql: str) -> dict[str, Any]:
        target = Target("sandbox", self.handle.api_base_url, ACCOUNT, "manuscript-api", "http://127.0.0.1:9",
                        token=TOKEN, wrangler_config=self.config)
        return D1Action().run(D1Args(database=database, sql=sql), Context(target, dry_run=True))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(tmp_path_factory.mktemp("d1"))
    out = w.wrangler("d1", "create", "manuscripts").stdout
    assert "Successfully created DB 'manuscripts'" in out
    uuid = next(d["uuid"] for d in w.json("d1", "list", "--json") if d["name"] == "manuscripts")
    with w.config.open("a", encoding="utf-8") as handle:
        handle.write(f'\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "manuscripts"\ndatabase_id = "{uuid}"\n')
    yield w
    w.handle.stop()


def test_select_1_runs_remotely_through_the_query_api(world: World) -> None:
    results = world.json("d1", "execute", "DB", "--remote", "--command", "SELECT 1", "--json")
    assert results[0]["success"] is True and results[0]["results"] == [{"1": 1}]
    queries = [r for r in world.handle.emulator.requests if r["path"].endswith("/query")]
    assert queries and queries[-1]["method"] == "POST" and queries[-1]["status"] == 200


def test_create_insert_then_select_is_real_sqlite_and_the_probe_reads_the_same(world: World) -> None:
    created = world.json("d1", "execute", "DB", "--remote", "--json", "--command",
                         "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL); "
                         "INSERT INTO users (email) VALUES ('ada@example.com'), ('grace@example.com')")
    assert len(created) == 2 and created[1]["meta"]["changes"] == 2 and created[1]["meta"]["last_row_id"] == 2
    rows = world.json("d1", "execute", "manuscripts", "--remote", "--json", "--command",
                      "SELECT id, email FROM users ORDER BY id")[0]["results"]
    assert rows == [{"id": 1, "email": "ada@example.com"}, {"id": 2, "email": "grace@example.com"}]
    seen = world.probe("DB", "SELECT id, email FROM users ORDER BY id")
    assert seen["ok"] and seen["rows"] == rows


def test_a_failing_statement_rolls_the_whole_command_back_and_wrangler_reports_the_code(world: World) -> None:
    done = world.wrangler("d1", "execute", "DB", "--remote", "--command",
                          "INSERT INTO users (email) VALUES ('x@example.com'); INSERT INTO nope VALUES (1)", ok=False)
    assert "no such table: nope" in done.stdout + done.stderr and "[code: 7500]" in done.stdout + done.stderr
    assert world.probe("manuscripts", "SELECT count(*) AS n FROM users")["first"] == {"n": 2}
