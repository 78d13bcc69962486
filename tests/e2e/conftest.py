"""The end-to-end tests' rehearsals (testing.rehearsal), on the session sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from ops.sandbox.constants import PLAIN

from testing.rehearsal import Rehearsal


@pytest.fixture
def rehearse(sandbox: Any) -> Rehearsal:
    return Rehearsal(sandbox)


@pytest.fixture
def rehearse_plain(sandbox: Any) -> Rehearsal:
    """The same sandbox, acting on the plain Worker (target sandbox-plain): no /health, no /metrics."""
    return Rehearsal(sandbox, PLAIN)
