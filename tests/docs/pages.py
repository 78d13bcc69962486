"""The documentation as data: its pages, their fenced blocks, their links and their commands."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```(\w*)\s*$")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
INLINE = re.compile(r"`((?:inv|cfw-remedy) [^`]+)`")
HEREDOC = re.compile(r"<<-?\s*'?\"?(\w+)'?\"?")
PROGRAMS = {"inv", ".venv/bin/inv", "cfw-remedy"}


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # where its first line is
    lang: str
    text: str


@dataclass(frozen=True)
class Command:
    """One documented `inv` or `cfw-remedy` command: the task it names and the flags it passes."""

    where: str  # file:line
    task: str   # "" for the program's own options (`cfw-remedy --list`)
    flags: tuple[str, ...]


def pages() -> list[Path]:
    """Every page a reader is sent to: the README, SECURITY.md, the benchmark results and docs/."""
    return [REPO / "README.md", REPO / "SECURITY.md", REPO / "bench" / "RESULTS.md",
            *sorted((REPO / "docs").rglob("*.md"))]


def blocks(path: Path) -> list[Block]:
    found: list[Block] = []
    lang, start, lines = "", 0, list[str]()
    inside = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        fence = FENCE.match(line.strip())
        if fence and not inside:
            inside, lang, start, lines = True, fence.group(1), number + 1, []
        elif line.strip() == "```" and inside:
            inside = False
            found.append(Block(path, start, lang, "\n".join(lines)))
        elif inside:
            lines.append(line)
    return found


def prose(path: Path) -> list[tuple[int, str]]:
    """The lines outside fenced blocks, numbered."""
    inside, kept = False, []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip().startswith("```"):
            inside = not inside
        elif not inside:
            kept.append((number, line))
    return kept


def links(path: Path) -> list[tuple[int, str]]:
    return [(number, target) for number, line in prose(path) for target in LINK.findall(line)]


def commands(path: Path) -> list[Command]:
    """The commands of every `sh` block (heredoc bodies skipped) and of inline code that starts with a program."""
    found: list[Command] = []
    for block in blocks(path):
        if block.lang != "sh":
            continue
        heredoc_end = ""
        for offset, line in enumerate(block.text.splitlines()):
            if heredoc_end:
                heredoc_end = "" if line.strip() == heredoc_end else heredoc_end
                continue
            if match := HEREDOC.search(line):
                heredoc_end = match.group(1)
            found += _parse(line, f"{path.relative_to(REPO)}:{block.line + offset}")
    for number, line in prose(path):
        for text in INLINE.findall(line):
            found += _parse(text, f"{path.relative_to(REPO)}:{number}")
    return found


def _parse(line: str, where: str) -> list[Command]:
    words = shlex.split(line, comments=True)
    found = []
    for simple in _split(words):
        if simple and simple[0] in PROGRAMS:
            command = _command(simple[1:], where)
            if command is not None:
                found.append(command)
    return found


def _split(words: list[str]) -> list[list[str]]:
    """Simple commands between `&&`, `||`, `;` and `|`."""
    parts: list[list[str]] = [[]]
    for word in words:
        if word in {"&&", "||", ";", "|"}:
            parts.append([])
        else:
            parts[-1].append(word)
    return parts


def _command(args: list[str], where: str) -> Command | None:
    """None for a placeholder task (`remediate.<name>`), which no test can run."""
    if args[:1] == ["--help"] and len(args) > 1:
        args = args[1:]
    task = args[0] if args and not args[0].startswith("-") else ""
    if "<" in task or "…" in task:
        return None
    flags = tuple(word.strip("[]").split("=", 1)[0] for word in args[1 if task else 0:]
                  if word.strip("[]").startswith("--") and word.strip("[]") != "--")
    return Command(where, task, flags)
