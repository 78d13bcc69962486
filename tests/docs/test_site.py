"""The documentation site builds with `mkdocs build --strict` (every link and anchor checked), and the README stays short."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from testing.workspace import TOOLS
from tests.docs.pages import REPO, links, pages, prose

README_LINES = 200
LINE_CHARS = 200


def test_the_site_builds_strictly_outside_the_repository(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([str(TOOLS / "mkdocs"), "build", "--strict", "--quiet", "-d", str(site)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (site / "index.html").is_file() and (site / "performance" / "index.html").is_file()
    included = (site / "performance" / "index.html").read_text(encoding="utf-8")
    assert "Where the misses come from" in included  # bench/RESULTS.md, included whole


def test_the_readme_is_short() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_LINES


def test_no_prose_line_is_over_200_characters() -> None:
    long = [f"{page.relative_to(REPO)}:{number}: {len(line)} characters"
            for page in pages() for number, line in prose(page) if len(line) > LINE_CHARS]
    assert not long, "\n".join(long)


def test_the_readmes_links_reach_a_file_and_a_heading() -> None:
    broken = []
    for number, target in links(REPO / "README.md"):
        if re.match(r"\w+://", target):
            continue
        path, _, anchor = target.partition("#")
        page = REPO / path
        if not page.exists():
            broken.append(f"README.md:{number}: {target}: no such file")
        elif anchor and anchor not in _anchors(page):
            broken.append(f"README.md:{number}: {target}: no such heading in {path}")
    assert not broken, "\n".join(broken)


def _anchors(page: Path) -> set[str]:
    """The ids mkdocs gives the page's headings (Python-Markdown's toc slugify)."""
    from markdown.extensions.toc import slugify

    return {slugify(re.sub(r"[`*]", "", line.lstrip("#").strip()), "-")
            for _, line in prose(page) if line.startswith("#")}
