"""Agreement with wrangler on the shared conformance corpus (61 configs, 84 envs), for each wrangler version
whose verdicts it keeps (4.86 and 4.164): errors both ways, and every warning wrangler prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.workspace import REPO
from tests.gates.agreement import measure

SHARED = REPO.parent / "shared" / "conformance" / "wrangler-configs"
VERDICTS = sorted(SHARED.glob("expected-wrangler-*.json")) if SHARED.is_dir() else []
pytestmark = pytest.mark.skipif(not VERDICTS, reason=f"{SHARED} is absent: the shared conformance corpus sits beside the repo "
                                                     "in CI and dev sessions (the repo's own corpus is tests/gates/corpus)")


@pytest.mark.parametrize("verdicts", VERDICTS, ids=[p.stem for p in VERDICTS])
def test_the_gate_agrees_with_each_wrangler_version_on_the_shared_corpus(verdicts: Path) -> None:
    agreement = measure(SHARED, verdicts)
    assert agreement.envs == 84
    assert agreement.disagreements == []
    assert agreement.rejected == agreement.rejected_agreed > 0 and agreement.warnings == agreement.warnings_matched > 0


def test_the_versions_disagree_where_wrangler_changed() -> None:
    """4.164 accepts what 4.86 rejects (a container without image, durable_objects without bindings): the
    version's own schema carries the difference, so the verdicts differ for the same configs."""
    old, new = (measure(SHARED, SHARED / f"expected-wrangler-{v}.json") for v in ("4.86", "4.164"))
    assert old.rejected - new.rejected == 4
