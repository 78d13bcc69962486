"""Literal text in a spec's arguments that must never be there: secrets, and shells.

A secret enters a spec only through a `type: secret` param, whose value comes
from the environment, stdin, a file or a generator and is registered with the
redactor. So a literal in a field named like a secret, or a long random-looking
string anywhere in `with:`, is refused. A `run` takes an argv list so that no
shell ever parses it; starting a shell (`sh -c …`, `env bash …`) undoes that.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Iterator

from ops.engine import template
from ops.engine.problems import Path_

__all__ = ["looks_random", "secret_problems", "shell_problem"]

SECRET_NAME = re.compile(r"secret|token|passw|api[-_]?key|private[-_]?key|credential|authorization|cookie", re.I)
TOKEN_RUN = re.compile(r"[A-Za-z0-9+/_=-]{20,}")
SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "busybox", "pwsh",
                    "powershell", "cmd", "cmd.exe"})
ADVICE = "a secret enters a spec only as a param of type: secret, written {{ params.<name> }}"


def secret_problems(value: Any, path: Path_, key: str = "") -> Iterator[tuple[Path_, str, int | None]]:
    """(where, what, the offset in the string) for each secret-looking literal; the secret itself is never shown."""
    if isinstance(value, dict):
        for child_key, child in value.items():
            yield from secret_problems(child, (*path, child_key), str(child_key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from secret_problems(child, (*path, index), key)
    elif isinstance(value, str):
        references = [m.span() for m in template.REF.finditer(value)]
        if key and SECRET_NAME.search(key) and value.strip() and not references:
            yield path, f"a literal value in {key!r}, a field named like a secret; {ADVICE}", None
            return
        for run in TOKEN_RUN.finditer(value):
            inside = any(start <= run.start() < end for start, end in references)
            if not inside and looks_random(run.group()):
                yield path, (f"a {len(run.group())}-character random-looking string, which looks like a secret "
                             f"written into the spec; {ADVICE}"), run.start()
                return


def looks_random(text: str) -> bool:
    """Long, mixing lower case, upper case and digits, with high entropy: a key or token, not a word or an id."""
    classes = sum(1 for test in (str.islower, str.isupper, str.isdigit) if any(test(c) for c in text))
    counts = Counter(text)
    entropy = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    return classes == 3 and entropy >= 3.5


def shell_problem(with_: dict[str, Any], path: Path_) -> Iterator[tuple[Path_, str]]:
    argv = with_.get("argv")
    if not isinstance(argv, list):
        return
    index = 0
    while index < len(argv) and isinstance(argv[index], str) and _is_env_word(argv, index):
        index += 1
    if index < len(argv) and isinstance(argv[index], str):
        program = argv[index].rsplit("/", 1)[-1]
        if program in SHELLS:
            yield (*path, "argv", index), (f"{argv[index]!r} starts a shell; a run's argv is the program and its "
                                           "arguments, never a shell: call the program directly")


def _is_env_word(argv: list[Any], index: int) -> bool:
    """`env`, its options and its NAME=value words, which only precede the program."""
    word = str(argv[index])
    if index == 0:
        return word.rsplit("/", 1)[-1] == "env"
    return str(argv[0]).rsplit("/", 1)[-1] == "env" and (word.startswith("-") or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", word) is not None)
