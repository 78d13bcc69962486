"""An assets-only Worker (a config with ``assets`` and no ``main``), deployed with the real wrangler against the emulator.

wrangler sends such a Worker as upload metadata alone, with no module (deploy-helpers' create-worker-upload-form.ts);
Cloudflare serves its assets, and so does the sandbox (ops/sandbox/live.py). Its bad deploy is one whose assets leave
the site out (`wrangler deploy --assets <folder>`); it runs no code, so it cannot hang. The whole rehearsal, with
`wrangler dev` serving it, is the corpus's `assets-only` row (docs/corpus.md).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from ops.errors import InputError
from ops.sandbox import breaks
from ops.sandbox.emulator import EmulatorHandle, start_emulator
from ops.sandbox.emulator.live import live_version
from ops.sandbox.layout import Layout
from ops.sandbox.own import assets_only, own_worker
from ops.sandbox.ports import Ports
from tests.cloudflare.uploads import ACCOUNT, TOKEN
from tests.integration.wranglers import PINNED, wrangler_bin
from testing.workspace import REPO

WRANGLER = wrangler_bin(PINNED)
pytestmark = pytest.mark.skipif(not WRANGLER.exists(), reason="npm wrangler is not installed (./scripts/bootstrap)")
CONFIG = {"name": "pages", "compatibility_date": "2026-04-01", "assets": {"directory": "./public"}}


@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[EmulatorHandle]:
    handle = start_emulator(tmp_path / "state.json", account_id=ACCOUNT, token=TOKEN)
    yield handle
    handle.stop()


def pages(root: Path) -> Path:
    repo = root / "pages"
    (repo / "public").mkdir(parents=True)
    (repo / "public" / "index.html").write_text("<h1>pages</h1>\n", encoding="utf-8")
    (repo / "wrangler.json").write_text(json.dumps(CONFIG), encoding="utf-8")
    return repo


def wrangler(repo: Path, handle: EmulatorHandle, *args: str) -> str:
    env = {**os.environ, "CLOUDFLARE_API_BASE_URL": handle.api_base_url, "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
           "CLOUDFLARE_API_TOKEN": TOKEN, "WRANGLER_SEND_METRICS": "false", "CI": "true",
           "HOME": str(repo.parent / "home"), "XDG_CONFIG_HOME": str(repo.parent / "home" / ".config")}
    done = subprocess.run([str(WRANGLER), *args], cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_wrangler_deploys_an_assets_only_worker_and_its_bad_deploy_changes_only_the_assets(
        tmp_path: Path, emulator: EmulatorHandle) -> None:
    repo = pages(tmp_path)
    assert assets_only(repo / "wrangler.json", "")
    wrangler(repo, emulator, "deploy")
    live = live_version(emulator.emulator.state, "pages")
    assert live is not None and live.main_module == "" and live.assets == {"index.html": b"<h1>pages</h1>\n"}

    bad = tmp_path / "bad"  # what the sandbox's bad-deploy sends for it (breaks._deploy_bad_assets)
    bad.mkdir()
    (bad / "sandbox-bad-deploy.txt").write_text("left out\n", encoding="utf-8")
    wrangler(repo, emulator, "deploy", "--assets", str(bad), "--message", "sandbox: a bad deploy")
    broken = live_version(emulator.emulator.state, "pages")
    assert broken is not None and broken.version_id != live.version_id
    assert broken.assets == {"sandbox-bad-deploy.txt": b"left out\n"}


def test_a_worker_hang_on_an_assets_only_worker_is_refused_with_why_and_what_applies(tmp_path: Path) -> None:
    repo = pages(tmp_path)
    spec = own_worker(repo, "")
    sb = Layout(REPO, tmp_path / ".sandbox", Ports(20000), workers=(spec,))
    shutil.copytree(repo, sb.dir_of(spec))
    scenario = breaks.find("worker-hang")
    with pytest.raises(InputError, match=r"pages is an assets-only Worker \(wrangler.json names assets and no main "
                                         r"module\): no code of its own runs, so this break does not apply to it; "
                                         r"bad-deploy rehearses a rollback on it \(deploy a version whose assets"):
        scenario.induce(sb, scenario.worker_for(None, sb.workers))
    assert breaks.find("bad-deploy").describe(sb, spec) == breaks.BAD_ASSETS
