"""GitHub annotations: exact escaping, the 10-a-step limit summarised, and the step summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.gates.report import escape_data, escape_property, github
from ops.gates.result import Finding, Result


def test_escaping_is_exact() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_annotation_shape() -> None:
    f = Finding("error", "placeholder-id", 'KV id "<x>" is a placeholder', "dir,x/wrangler.toml", 12, 3, "production")
    assert github(Result([f]), "bindings") == (
        '::error file=dir%2Cx/wrangler.toml,line=12,col=3,title=bindings%3A placeholder-id::KV id "<x>" is a placeholder')


def test_more_than_ten_are_summarised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    findings = [Finding("warning", "not-inherited", f"w{i}", "wrangler.toml", i + 1, 1, "staging") for i in range(14)]
    lines = github(Result(findings), "bindings").splitlines()
    assert len(lines) == 10
    assert lines[-1].startswith("::warning title=bindings%3A 5 more::5 more warnings (GitHub shows 10 a step): wrangler.toml:10")
    text = summary.read_text()
    assert text.startswith("### bindings\n\n| severity | code | where | env | message |") and text.count("| warning |") == 14


def test_a_finding_without_a_position_has_no_file_in_its_annotation() -> None:
    f = Finding("error", "bundle-over-limit", "the bundle is 70 MiB", "dist", 0, 0, "<top>")
    lines = github(Result([f], notes=["bundle: Total Upload: 1.00 KiB / gzip: 0.50 KiB"]), "bundle size").splitlines()
    assert lines == ["::error title=bundle size%3A bundle-over-limit::the bundle is 70 MiB",
                     "::notice title=bundle size::bundle: Total Upload: 1.00 KiB / gzip: 0.50 KiB"]
