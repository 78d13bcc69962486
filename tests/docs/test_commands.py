"""Every command the README and docs/ show names a task that exists, with flags that task accepts.

Each task's flags are read from `inv --help TASK`, a real subprocess in this checkout, so a
renamed task or flag fails here with the page and line that still shows the old one.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.docs.pages import REPO, blocks, commands, pages

OPTION = re.compile(r"^\s+(?:-\w, )?(--[\w-]+)", re.MULTILINE)
CORE_FLAGS = {"--help", "--list", "--version"}
CFW_REMEDY = "import sys; sys.argv[0] = 'cfw-remedy'; from ops.cli.program import main; main()"
MODELINE = "# yaml-language-server: $schema="


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("OPS_")}


def _task_flags(task: str) -> tuple[int, set[str], str]:
    done = subprocess.run([sys.executable, "-m", "invoke", "--help", task], cwd=REPO, env=_env(),
                          capture_output=True, text=True, timeout=120)
    return done.returncode, set(OPTION.findall(done.stdout)), done.stdout + done.stderr


def test_the_pages_show_commands() -> None:
    shown = {command.task for page in pages() for command in commands(page)}
    assert {"remediate.rollback", "diagnose", "sandbox.up", "check.bindings"} <= shown


def test_every_documented_command_names_a_task_and_flags_it_accepts() -> None:
    documented = [command for page in pages() for command in commands(page)]
    tasks = sorted({command.task for command in documented if command.task})
    with ThreadPoolExecutor(max_workers=3) as pool:
        helps = dict(zip(tasks, pool.map(_task_flags, tasks)))
    problems = []
    for command in documented:
        if not command.task:
            problems += [f"{command.where}: {flag}: not an option of the program"
                         for flag in command.flags if flag not in CORE_FLAGS]
            continue
        code, accepted, output = helps[command.task]
        if code != 0:
            problems.append(f"{command.where}: {command.task}: no such task ({output.strip()[:200]})")
            continue
        problems += [f"{command.where}: {command.task} {flag}: not one of its flags ({', '.join(sorted(accepted))})"
                     for flag in command.flags if flag not in accepted | CORE_FLAGS]
    assert not problems, "\n".join(problems)


def test_every_documented_script_exists() -> None:
    missing = []
    for page in pages():
        for block in blocks(page):
            if block.lang != "sh":
                continue
            for offset, line in enumerate(block.text.splitlines()):
                for word in re.findall(r"(?:^|&&\s*)(\./scripts/[\w-]+|\.venv/bin/[\w-]+)", line):
                    path = Path(sys.executable).parent / Path(word).name if word.startswith(".venv") else REPO / word
                    if not path.exists():
                        missing.append(f"{page.relative_to(REPO)}:{block.line + offset}: {word}")
    assert not missing, "\n".join(missing)


def test_the_two_commands_are_the_readme_and_the_docs_home_and_ci_runs_the_second() -> None:
    first = blocks(REPO / "README.md")[0].text
    assert "./scripts/bootstrap && .venv/bin/inv sandbox.up && .venv/bin/inv remediate.cache-warm --dry-run" in first
    assert first.rstrip().endswith("\n./scripts/test")
    assert blocks(REPO / "docs" / "index.md")[0].text == first
    assert (REPO / ".ci" / "run").read_text(encoding="utf-8").rstrip().endswith("exec ./scripts/test")


def _example_specs() -> list[tuple[str, str]]:
    return [(f"{block.path.relative_to(REPO)}:{block.line}", block.text)
            for page in pages() for block in blocks(page)
            if block.lang == "yaml" and block.text.startswith(MODELINE)]


@pytest.mark.parametrize(("where", "text"), _example_specs())
def test_every_example_spec_passes_specs_check(where: str, text: str, tmp_path: Path) -> None:
    name = re.search(r"^name: ([\w-]+)", text, re.MULTILINE)
    assert name, f"{where}: the example spec has no name"
    folder = tmp_path / "remediations"
    folder.mkdir()
    (folder / f"{name.group(1)}.yaml").write_text(text + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", CFW_REMEDY, "specs.check", f"remediations/{name.group(1)}.yaml"],
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{where}: the example spec fails `specs.check`:\n{done.stdout}{done.stderr}"


def test_the_spec_format_page_has_an_example_spec() -> None:
    assert any(where.startswith("docs/spec-format.md:") for where, _ in _example_specs())


def test_every_toml_and_yaml_block_parses() -> None:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    problems = []
    for page in pages():
        for block in blocks(page):
            where = f"{page.relative_to(REPO)}:{block.line}"
            try:
                if block.lang == "toml":
                    tomllib.loads(block.text)
                elif block.lang == "yaml":
                    YAML(typ="safe").load(block.text)
            except (tomllib.TOMLDecodeError, YAMLError) as exc:
                problems.append(f"{where}: {exc}")
    assert not problems, "\n".join(problems)
