"""GitHub annotations: exact escaping, the 10-a-step limit summarised, and the step summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.gates.report import escape_data, escape_property, github
from ops.gates.result import Finding


def test_escaping_is_exact() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_annotation_shape() -> None:
    f = Finding("error", "placeholder-id", 'KV id "<x>" is a placeholder', "dir,x/wrangler.toml", 12, 3, "production")
    assert github([f], "bindings") == (
        '::error file=dir%2Cx/wrangler.toml,line=12,col=3,title=bindings%3A placeholder-id::KV id "<x>" is a placeholder')


def test_more_than_ten_are_summarised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    findings = [Finding("warning", "not-inherited", f"w{i}", "wrangler.toml", i + 1, 1, "staging") for i in range(14)]
    lines = github(findings, "bindings").splitlines()
    assert len(lines) == 10
    assert lines[-1].startswith("::warning title=bindings%3A 5 more::5 more warnings (GitHub shows 10 a step): wrangler.toml:10")
    text = summary.read_text()
    assert text.startswith("### bindings\n\n| severity | code | where | env | message |") and text.count("| warning |") == 14
