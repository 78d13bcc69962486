"""A clean child environment (issue 24, point 7): wrangler gets the target's credentials and what a program needs
to start, never the operator's ambient CLOUDFLARE_API_KEY / CLOUDFLARE_EMAIL, and the plan says they were dropped."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from testing.workspace import CANARY, Workspace
from tests.fakes.service import Service

AMBIENT = {"CLOUDFLARE_API_KEY": "ambient-global-key-1234", "CLOUDFLARE_EMAIL": "oncall@example.com",
           "CLOUDFLARE_API_TOKEN": "ambient-token-5678", "UNRELATED_SECRET": "unrelated-secret-9012",
           "HTTPS_PROXY": "http://proxy.test:3128", "NODE_OPTIONS": "--max-old-space-size=512"}


def _env_dumping_wrangler(ws: Workspace) -> Path:
    dump = ws.root / "wrangler-env.json"
    script = ws.root / "node_modules" / ".bin" / "wrangler"
    script.parent.mkdir(parents=True)
    script.write_text(f"#!/usr/bin/env python3\nimport json, os\n"
                      f"open({str(dump)!r}, 'w').write(json.dumps(dict(os.environ)))\nprint('[]')\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return dump


SPEC = """\
name: child
summary: A wrangler read and a program.
symptoms: [tests]
steps:
  - {name: versions, action: wrangler, effect: read, with: {argv: [versions, list, --json]}}
  - name: program
    action: run
    effect: write
    undo: none
    with: {argv: [python3, -c, "import json, os; open('run-env.json', 'w').write(json.dumps(dict(os.environ)))"],
           env: {STEP_VALUE: given}}
undo:
  - {name: none, action: noop, with: {reason: it wrote a scratch file}}
verify:
  checks:
    - {name: up, action: http, with: {url: "{{ target.worker_url }}/health"}}
"""


def test_wrangler_and_run_get_a_clean_environment_with_the_targets_credentials(workspace: Workspace,
                                                                               service: Service) -> None:
    dump = _env_dumping_wrangler(workspace)
    workspace.add_spec(SPEC, "child.yaml")
    workspace.env.update(AMBIENT)
    plan = workspace.inv("remediate.child", "--dry-run")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert ("wrangler versions list --json (with the target's token; ambient CLOUDFLARE_API_KEY, CLOUDFLARE_EMAIL "
            "dropped)") in plan.stdout
    seen = json.loads(dump.read_text())
    assert seen["CLOUDFLARE_API_TOKEN"] == f"{CANARY}-token"
    assert seen["CLOUDFLARE_ACCOUNT_ID"] == "5a4db0c5000000000000000000000000"
    assert seen["CLOUDFLARE_API_BASE_URL"] == "http://127.0.0.1:9/client/v4"
    assert "CLOUDFLARE_API_KEY" not in seen and "CLOUDFLARE_EMAIL" not in seen
    assert "UNRELATED_SECRET" not in seen and "TEST_TOKEN" not in seen
    assert seen["HTTPS_PROXY"] == AMBIENT["HTTPS_PROXY"] and seen["NODE_OPTIONS"] == AMBIENT["NODE_OPTIONS"]
    assert seen["PATH"] and "HOME" in seen

    done = workspace.inv("remediate.child", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    ran = json.loads((workspace.root / "run-env.json").read_text())
    assert ran["STEP_VALUE"] == "given" and ran["PATH"]
    assert not {"CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_TOKEN", "UNRELATED_SECRET",
                "TEST_TOKEN"} & set(ran)
