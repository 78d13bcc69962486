"""Inputs that would take all memory end with exit 2 and a message (issue 24, point 5): key files stream with a
cap per line and on the whole, and a secret is at most 5 KiB, as Cloudflare allows, refused before it is kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.actions.lines import numbered_lines
from ops.engine.model import Param
from ops.engine.params import resolve_params
from ops.errors import InputError
from testing.workspace import Workspace
from tests.engine.test_runs import SPECS
from tests.reliability.test_bad_input import assert_clean, run_measured


def test_a_key_file_of_dev_zero_ends_with_exit_2(workspace: Workspace) -> None:
    workspace.add_spec(SPECS / "warm.yaml")
    code, output, cpu, rss = run_measured(workspace, "remediate.warm", "--dry-run", "--keys-file", "/dev/zero")
    assert_clean(code, output, cpu, rss, where="/dev/zero:1: the line is longer than")


def test_a_gigabyte_single_line_key_file_ends_with_exit_2_in_bounded_memory(workspace: Workspace) -> None:
    workspace.add_spec(SPECS / "warm.yaml")
    keys = workspace.root / "one-line.txt"
    with keys.open("wb") as handle:
        handle.write(b"k" * 4096)
        handle.truncate(1024 ** 3)  # sparse: a gigabyte with no line break, on no disk
    code, output, cpu, rss = run_measured(workspace, "remediate.warm", "--dry-run", "--keys-file", str(keys))
    assert_clean(code, output, cpu, rss, where="one-line.txt:1: the line is longer than")


def test_a_file_over_its_total_limit_is_refused_at_the_line_that_crosses_it(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_bytes(b"abc\n" * 10)
    with pytest.raises(InputError, match=r"keys.txt:3: the key file is larger than 10 bytes; split it"):
        list(numbered_lines(path, "key file", max_line=100, max_bytes=10))
    assert [n for n, _ in numbered_lines(path, "key file", max_line=3, max_bytes=40)] == list(range(1, 11))


def test_a_secret_file_over_5_kib_is_refused_before_the_redactor_sees_it(workspace: Workspace) -> None:
    workspace.add_spec(SPECS / "poke.yaml")
    big = workspace.root / "big-secret"
    big.write_bytes(b"s" * (5 * 1024 * 1024))
    code, output, cpu, rss = run_measured(workspace, "remediate.poke", "--dry-run", "--token", f"file:{big}")
    assert_clean(code, output, cpu, rss, where="--token: ")
    assert "more than 5120 bytes; a Worker secret is at most 5 KiB" in output


@pytest.mark.parametrize("size, ok", [(5 * 1024, True), (5 * 1024 + 1, False)])
def test_a_secret_may_be_5_kib_and_no_more(tmp_path: Path, size: int, ok: bool) -> None:
    path = tmp_path / "secret"
    path.write_bytes(b"x" * size + b"\n")
    param = Param(type="secret", help="a secret")
    if ok:
        assert len(str(resolve_params({"s": param}, {"s": f"file:{path}"}, dry_run=False)["s"])) == size
    else:
        with pytest.raises(InputError, match="--s: .* holds more than 5120 bytes"):
            resolve_params({"s": param}, {"s": f"file:{path}"}, dry_run=False)
