"""The strangers' corpus, per Worker (slow, behind `-m corpus`; `python bench/corpus.py` prints the table).

Each Worker of tests/corpus/corpus.toml is made into a repository from its
create-cloudflare template, the tool installed from this checkout non-editable, and
rehearsed as docs/worker-repo.md says (testing/corpus.py): every step that applies
must pass, and the team's files come out untouched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testing import corpus
from testing.worker_repo import install

from testing.workspace import REPO

MANIFEST = corpus.load()
pytestmark = [pytest.mark.corpus, pytest.mark.sandbox,
              pytest.mark.skipif(not (REPO / "node_modules" / ".bin" / "wrangler").exists(),
                                 reason="the npm parts are not installed (./scripts/bootstrap)")]


@pytest.fixture(scope="module")
def tools(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The templates' package folder and the tool's venv bin, once for the module."""
    return corpus.templates(MANIFEST), install(tmp_path_factory.mktemp("install"))


@pytest.mark.parametrize("entry", MANIFEST.workers, ids=[w.name for w in MANIFEST.workers])
def test_a_strangers_worker_rehearses_end_to_end(tools: tuple[Path, Path], entry: corpus.Entry, tmp_path: Path) -> None:
    package, bin_ = tools
    outcomes = corpus.rehearse(corpus.make_repo(entry, MANIFEST, package, tmp_path), bin_)
    failed = [f"{o.step}: exit {o.code}: {o.detail}" for o in outcomes if o.ok is False]
    assert not failed, "\n".join(failed)
    assert all(o.ok for o in outcomes if o.step in ("sandbox.up", "rollback"))
    # the hung Worker's rollback, unless a hang cannot apply (an assets-only Worker runs no code of its own)
    assert all(o.ok or o.detail == corpus.DOES_NOT_APPLY for o in outcomes if o.step == "rollback 2")
