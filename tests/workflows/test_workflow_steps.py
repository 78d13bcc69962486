"""Each workflow's steps, run with bash in a checkout laid out as the calling repository, against the sandbox.

``actions_runner`` runs the `run:` steps (and our composite action, and the reusable
workflow a caller names) with the GITHUB_* variables a runner sets. Installs are
recorded, not run: ``python -m pip install`` and ``npm`` are shims that log their
arguments (the suite has no network), and the wrangler that `npm install` would fetch
is this checkout's pinned one. Other actions' steps (checkout, setup-*, upload-artifact,
wrangler-action) are played by handlers that check what they are given.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from ops.sandbox.emulator import start_emulator
from ops.sandbox.emulator.__main__ import load_seed
from testing.workspace import REPO
from tests.workflows.actions_runner import Job, load, render, run_workflow_job, text

WORKFLOWS = REPO / ".github" / "workflows"
ACCOUNT, TOKEN = "5a4db0c5000000000000000000000000", "sandbox-local-token"
PINNED_WRANGLER = json.loads((REPO / "package.json").read_text())["dependencies"]["wrangler"]
pytestmark = pytest.mark.skipif(not (REPO / "node_modules" / ".bin" / "wrangler").exists(),
                                reason="npm parts are not installed (./scripts/bootstrap)")

SHIM = """#!/usr/bin/env bash
# Records installs instead of running them (no network in the suite); anything else runs for real.
if [ "$1 $2 $3" = "-m pip install" ]; then echo "pip $*" >> "{log}"; exit 0; fi
exec {real} "$@"
"""
NPM = """#!/usr/bin/env bash
echo "npm $*" >> "{log}"
prefix=""; prev=""
for arg in "$@"; do [ "$prev" = "--prefix" ] && prefix="$arg"; prev="$arg"; done
if [ -n "$prefix" ]; then mkdir -p "$prefix/node_modules/.bin" && ln -sf "{wrangler}" "$prefix/node_modules/.bin/wrangler"; fi
"""


class Calling:
    """A checkout of the calling repository, with the shims and the record of installs and artifacts."""

    def __init__(self, root: Path) -> None:
        self.workspace = root / "work"
        self.temp = root / "runner-temp"
        self.temp.mkdir(parents=True)
        self.log = root / "installs.log"
        self.log.touch()
        self.artifacts: list[dict[str, Any]] = []
        self.deploys: list[list[str]] = []
        files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True).stdout
        for name in filter(None, files.split("\0")):
            if (REPO / name).is_file():
                (self.workspace / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / name, self.workspace / name)
        shims = root / "bin"
        shims.mkdir()
        for name, body in (("python", SHIM.format(log=self.log, real=REPO / ".venv/bin/python")),
                           ("npm", NPM.format(log=self.log, wrangler=REPO / "node_modules/.bin/wrangler"))):
            (shims / name).write_text(body, encoding="utf-8")
            (shims / name).chmod(0o755)
        venv = self.workspace / ".venv" / "bin"
        venv.mkdir(parents=True)  # what ./scripts/bootstrap finds on a runner after `python -m venv .venv`
        (venv / "python").write_text(SHIM.format(log=self.log, real=REPO / ".venv/bin/python"), encoding="utf-8")
        (venv / "inv").write_text(f"#!/usr/bin/env bash\nexec {REPO / '.venv/bin/inv'} \"$@\"\n", encoding="utf-8")
        for tool in venv.iterdir():
            tool.chmod(0o755)
        self.path = f"{shims}:{REPO / '.venv/bin'}:{os.environ['PATH']}"

    def installs(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines()

    def job(self, *, github: dict[str, Any], inputs: dict[str, Any], secrets: dict[str, str],
            env: dict[str, str]) -> Job:
        base = {"PATH": self.path, "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8",
                "WRANGLER_SEND_METRICS": "false", **env}
        return Job(self.workspace, self.temp, base, {"run_id": "4242", "repository": "acme/books", **github}, inputs,
                   secrets, handlers={"actions/checkout@": ignore, "actions/setup-python@": ignore,
                                      "actions/setup-node@": ignore, "actions/upload-artifact@": self.upload,
                                      "cloudflare/wrangler-action@": self.wrangler_action},
                   actions={"cfw-remedy/cfw-remedy/.github/actions/pre-deploy@":
                            self.workspace / ".github/actions/pre-deploy"})

    def upload(self, job: Job, args: dict[str, Any], env: dict[str, str]) -> None:
        assert args.get("include-hidden-files") is True, "upload-artifact v4 drops .journal/ without include-hidden-files"
        found = sorted(str(p.relative_to(job.workspace)) for line in str(args["path"]).split()
                       for p in job.workspace.glob(line) if p.is_file())
        self.artifacts.append({"name": args["name"], "files": found})

    def wrangler_action(self, job: Job, args: dict[str, Any], env: dict[str, str]) -> None:
        """cloudflare/wrangler-action@v3: installs `wranglerVersion`, then runs `wrangler <command> [--env]`."""
        assert args.get("wranglerVersion") == PINNED_WRANGLER, "the deploy must use the wrangler the gates checked with"
        argv = [str(REPO / "node_modules/.bin/wrangler"), *str(args["command"]).split()]
        if args.get("environment"):
            argv += ["--env", str(args["environment"])]
        done = subprocess.run(argv, cwd=job.workspace / str(args.get("workingDirectory") or "."), capture_output=True,
                              text=True, timeout=300, env={**job.base_env, "CLOUDFLARE_API_TOKEN": str(args["apiToken"]),
                                                           "CLOUDFLARE_ACCOUNT_ID": str(args["accountId"])})
        self.deploys.append(argv)
        assert done.returncode == 0, done.stdout + done.stderr


def ignore(job: Job, args: dict[str, Any], env: dict[str, str]) -> None:
    pass


def failures(job: Job) -> str:
    return "\n".join(f"{r.name}: exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
                     for r in job.runs if r.returncode != 0)


@pytest.fixture
def calling(tmp_path: Path) -> Calling:
    return Calling(tmp_path)


# --- pre-deploy: the example caller, its reusable workflow and the composite action -------------------------

@pytest.fixture
def emulator(tmp_path: Path) -> Iterator[Any]:
    handle = start_emulator(tmp_path / "state.json", seed=load_seed("default"), token=TOKEN, account_id=ACCOUNT)
    yield handle
    handle.stop()


def test_the_example_caller_gates_and_deploys_as_written(calling: Calling, emulator: Any) -> None:
    caller = load(WORKFLOWS / "pre-deploy-caller.example.yml")
    call = caller["jobs"]["pre-deploy"]
    assert call["uses"] == "./.github/workflows/pre-deploy.yml"
    github = {"event_name": "push"}
    called = load(calling.workspace / call["uses"])
    declared = called["on"]["workflow_call"]["inputs"]
    given = render(call["with"], {"github": github})
    inputs = {k: given.get(k, v.get("default")) for k, v in declared.items()}
    secrets = {"CLOUDFLARE_API_TOKEN": TOKEN, "CLOUDFLARE_ACCOUNT_ID": ACCOUNT}
    env = {"CLOUDFLARE_API_BASE_URL": emulator.api_base_url}

    gates = calling.job(github=github, inputs=inputs, secrets=secrets, env=env)
    run_workflow_job(gates, called, "gates")
    assert not gates.failed, failures(gates)
    assert [r.name for r in gates.runs] == ["Install the gates", "Bindings", "Bundle size"]
    assert f"wrangler@{PINNED_WRANGLER}" in " ".join(calling.installs())
    assert "--remote" in (calling.workspace / ".github/actions/pre-deploy/action.yml").read_text()
    listed = httpx.get(f"{emulator.url}/__emulator/requests", headers=emulator.admin_headers).json()
    assert {"/client/v4/accounts/" + ACCOUNT + "/storage/kv/namespaces"} <= {r["path"] for r in listed}  # remote check ran

    assert inputs["deploy"] is True
    deploy = calling.job(github=github, inputs=inputs, secrets=secrets, env=env)
    run_workflow_job(deploy, called, "deploy")
    assert calling.deploys and calling.deploys[0][1:] == ["deploy", "--config", "wrangler.toml"]
    state = httpx.get(f"{emulator.url}/__emulator/state", headers=emulator.admin_headers).json()
    assert "api-worker" in state["scripts"]


def test_the_reusable_workflow_names_the_action_so_another_repository_can_call_it() -> None:
    gates = load(WORKFLOWS / "pre-deploy.yml")["jobs"]["gates"]["steps"]
    uses = [s["uses"] for s in gates if "uses" in s and "pre-deploy" in s["uses"]]
    assert uses == ["cfw-remedy/cfw-remedy/.github/actions/pre-deploy@v1"]  # not ./, which resolves in the caller


# --- the emergency rollback and remediate, against the session's sandbox (tests/conftest.py) ----------------

def production(sandbox: Any) -> tuple[dict[str, str], dict[str, str]]:
    sb = sandbox.sandbox
    secrets = {"CLOUDFLARE_API_TOKEN": sb.token, "CLOUDFLARE_ACCOUNT_ID": ACCOUNT, "OPS_WORKER_NAME": "api-worker",
               "OPS_WORKER_URL": sb.worker_url}
    return secrets, {"CLOUDFLARE_API_BASE_URL": sb.api_base_url}


# A reason that is one of the rollback's own flags, and one that starts like a short flag and holds a colon and spaces.
@pytest.mark.parametrize("reason", ["--force", "-x pager: 5xx spike"])
def test_the_emergency_rollback_runs_as_written(calling: Calling, sandbox: Any, reason: str) -> None:
    sb = sandbox.sandbox
    sb.reset()
    sb.break_("bad-deploy")
    workflow = load(WORKFLOWS / "emergency-rollback.yml")
    secrets, env = production(sandbox)
    inputs = {"reason": reason, "version": "", "accept_secret_changes": False, "force": False}
    job = calling.job(github={"event_name": "workflow_dispatch"}, inputs=inputs, secrets=secrets, env=env)
    run_workflow_job(job, workflow, "rollback")

    assert not job.failed, failures(job)
    assert job.steps["rollback"]["outputs"] == {"exit_code": "0"}
    result = json.loads((calling.workspace / "rollback-result.json").read_text())
    assert result["status"] in ("verified", "ok", "done") or result.get("exit_code", 0) == 0
    assert any("pip -m pip install" in line and "[test]" not in line for line in calling.installs())
    assert not any(line.startswith("npm") for line in calling.installs())  # the rollback path needs no npm
    assert job.summary is not None and "## Emergency rollback: exit 0" in job.summary.read_text()
    [artifact] = calling.artifacts
    assert any(f.startswith(".journal/") and f.endswith(".jsonl") for f in artifact["files"])
    live = httpx.get(f"{sb.emulator_url}/__emulator/state", headers=sb.admin_headers).json()["scripts"]["api-worker"]["deployments"][0]
    assert live["annotations"].get("workers/message") == reason  # the pager's exact text, even "--force"


def test_a_dry_run_needs_no_approval_and_never_queues_the_emergency_rollback(calling: Calling, sandbox: Any) -> None:
    remediate = load(WORKFLOWS / "remediate.yml")
    emergency = load(WORKFLOWS / "emergency-rollback.yml")
    plan = {"remediation": "rollback", "params": "", "dry_run": True, "target": "production"}
    real = {**plan, "dry_run": False}
    contexts = {"inputs": plan, "github": {"run_id": "4242"}}
    assert render(remediate["jobs"]["remediate"]["environment"], contexts) == ""
    assert render(remediate["jobs"]["remediate"]["environment"], {**contexts, "inputs": real}) == "production"
    groups = {text(render(remediate["concurrency"]["group"], {**contexts, "inputs": i})) for i in (plan, real)}
    assert emergency["concurrency"]["group"] not in groups and len(groups) == 2

    sb = sandbox.sandbox
    sb.reset()
    sb.break_("bad-deploy")
    before = len(httpx.get(f"{sb.emulator_url}/__emulator/requests", headers=sb.admin_headers).json())
    secrets, env = production(sandbox)
    job = calling.job(github={"event_name": "workflow_dispatch"}, inputs=plan, secrets=secrets, env=env)
    run_workflow_job(job, remediate, "remediate")
    assert not job.failed, failures(job)
    assert json.loads((calling.workspace / "plan.json").read_text())
    seen = httpx.get(f"{sb.emulator_url}/__emulator/requests", headers=sb.admin_headers).json()[before:]
    assert seen and not [r for r in seen if r["mutating"]]  # the plan read the account and changed nothing
    assert any("pip -m pip install" in line and "[test]" not in line for line in calling.installs())
    assert calling.artifacts and "result.json" in calling.artifacts[0]["files"]
