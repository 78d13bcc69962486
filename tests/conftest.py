"""Shared fixtures: a loopback service, an isolated workspace (testing.workspace), and the session sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from testing.workspace import REPO, SANDBOX_OTHER_SECRETS, SANDBOX_SECRETS, SANDBOX_TOKEN, Workspace, make_workspace
from tests.fakes.service import Service


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Any]:
    """One whole sandbox (emulator, providers, both Workers on real workerd behind their proxies) on free ports."""
    if not (REPO / "node_modules" / ".bin" / "wrangler").exists():
        pytest.skip("the npm parts are not installed (run ./scripts/bootstrap); CI installs them")
    from testing.sandbox import SandboxHandle

    from ops.sandbox.constants import BOOKS, INFRA, PLAIN

    # The books, plain and infrastructure Workers served (the infrastructure one's deploy rehearsals use copies); the AI and
    # manuscript rehearsals have their own lean sandboxes.
    handle = SandboxHandle(token=SANDBOX_TOKEN, secrets=SANDBOX_SECRETS, other_secrets=SANDBOX_OTHER_SECRETS,
                           workers=(BOOKS, PLAIN, INFRA))
    yield handle
    handle.stop()


@pytest.fixture
def service() -> Iterator[Service]:
    svc = Service()
    yield svc
    svc.stop()


@pytest.fixture
def workspace(tmp_path: Path, service: Service) -> Workspace:
    return make_workspace(tmp_path, service.url)
