"""The runbook maps (docs/runbooks/): every procedure row that names a command names a test that exists, and the
index's counts are the maps' own."""

from __future__ import annotations

import re
from pathlib import Path

from tests.docs.pages import REPO

MAPS = REPO / "docs" / "runbooks"
TEST_REF = re.compile(r"^- `([\w-]+)`: `(tests/[\w/]+\.py)::(test_\w+)`", re.M)  # a legend line: key, file, test
KEY = re.compile(r"`([\w-]+)`")
NONE = "—"


def rows(page: Path) -> list[list[str]]:
    """The procedure table's rows, as cells (the table whose header starts with "Procedure")."""
    found: list[list[str]] = []
    in_table = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("| Procedure"):
            in_table = True
            continue
        if in_table and line.startswith("|---"):
            continue
        if in_table and line.startswith("|"):
            found.append([cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
        elif in_table:
            in_table = False
    return found


def legend_of(page: Path) -> dict[str, tuple[str, str]]:
    """The page's legend: each test's short name, its file and its function."""
    return {key: (path, name) for key, path, name in TEST_REF.findall(page.read_text(encoding="utf-8"))}


def rehearsed(row: list[str]) -> bool:
    return row[1] != NONE and bool(KEY.findall(row[3]))


def test_every_row_with_a_command_names_tests_that_exist() -> None:
    pages = sorted(p for p in MAPS.glob("*.md") if p.name != "index.md")
    assert pages, "no runbook maps"
    missing = []
    for page in pages:
        table = rows(page)
        assert table, f"{page.name}: no procedure table (a header starting with '| Procedure')"
        for row in table:
            assert len(row) == 4, f"{page.name}: a row needs 4 cells: {row}"
            if row[1] == NONE:
                assert row[3].startswith("none"), f"{page.name}: a row without a command says why: {row}"
                continue
            keys = KEY.findall(row[3])
            assert keys, f"{page.name}: {row[0]} has a command and no test"
            legend = legend_of(page)
            for key in keys:
                assert key in legend, f"{page.name}: {row[0]} names a test `{key}` that the page's list does not give"
                path, name = legend[key]
                source = REPO / path
                if not source.exists() or not re.search(rf"^def {name}\(", source.read_text(encoding="utf-8"), re.M):
                    missing.append(f"{page.name}: {path}::{name}")
    assert missing == []


def test_the_index_counts_are_the_maps_own() -> None:
    index = (MAPS / "index.md").read_text(encoding="utf-8")
    total = [0, 0]
    for page, procedures, done in re.findall(r"^\| [^|]+ \| \[[^\]]+\]\(([\w-]+\.md)\) \| (\d+) \| (\d+) \|$", index, re.M):
        table = rows(MAPS / page)
        assert (int(procedures), int(done)) == (len(table), sum(map(rehearsed, table))), page
        total[0] += len(table)
        total[1] += sum(map(rehearsed, table))
    listed = {p.name for p in MAPS.glob("*.md")} - {"index.md"}
    assert listed == set(re.findall(r"\]\(([\w-]+\.md)\)", index)), "every map is in the index, and only maps"
    assert f"| **Total** | | **{total[0]}** | **{total[1]}** |" in index
