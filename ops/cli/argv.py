"""The command line as invoke will parse it, with bare paths allowed after `specs.check`.

Invoke has no variadic positionals, and it has already parsed its core options
when it imports tasks.py; the task part of the command line is still unparsed
then (``program.core.unparsed``). Bare words after `specs.check` that name a
file or folder, or end in .yaml/.yml, become repeated `--paths` flags there, and a
bare word after `incident.report` or `journal.show` becomes `--run` (so either runs
without one), and after `sandbox.break`, `--scenario`.

A remediation's `--flag=VALUE` whose VALUE starts with `--` is marked
(``ops.flag_values``) so that invoke keeps it as the flag's value instead of
reading it as another flag: free text such as `--message=--force` stays data.
"""

from __future__ import annotations

from pathlib import Path

from ops.flag_values import protect

VARIADIC = {"specs.check": "--paths"}
# Invoke's positionals are required, and one waiting for its word takes `--help` as that word; these tasks
# take their word as a flag instead: a bare word right after the task becomes the flag, and `--help` stays help.
OPTIONAL_POSITIONAL = {"incident.report": "--run", "journal.show": "--run", "sandbox.break": "--scenario"}
# Their flags that take a value: the bare word after one is that value, not the positional.
VALUE_FLAGS = {"--run", "--scenario", "--worker", "--since", "--until", "--severity", "--detected", "--out"}


def command_line() -> list[str] | None:
    """The unparsed task words of the running `inv`, rewritten; None when not run from the CLI."""
    from invoke import main

    core = getattr(main.program, "core", None)
    unparsed = getattr(core, "unparsed", None)
    if not isinstance(unparsed, list):
        return None
    unparsed[:] = expand(unparsed)
    return list(unparsed)


def expand(argv: list[str]) -> list[str]:
    out: list[str] = []
    flag: str | None = None
    optional: str | None = None  # the positional's flag, while its task's words last and it is not given
    value_next = False
    remediation = False
    for word in argv:
        if optional and not word.startswith("-") and not _is_task(word) and not value_next:
            out += [optional, word]
            optional = None
            continue
        value_next = optional is not None and word in VALUE_FLAGS
        if word in OPTIONAL_POSITIONAL:
            optional = OPTIONAL_POSITIONAL[word]
        elif optional and ((not word.startswith("-") and _is_task(word)) or word == "--"
                           or word.partition("=")[0] == optional):
            optional = None  # the next task, or the positional given as its flag
        if word == "--":
            out.append(word)
            flag = None
            remediation = False
            continue
        if not word.startswith("-"):
            remediation = word.startswith("remediate.") or (remediation and not _is_task(word))
        if remediation and word.startswith("--") and "=" in word:
            name, _, value = word.partition("=")
            word = f"{name}={protect(value)}"
        if word in VARIADIC:
            flag = VARIADIC[word]
            out.append(word)
        elif flag and not word.startswith("-") and _is_path(word):
            out += [flag, word]
        else:
            if flag and not word.startswith("-"):
                flag = None  # the next task
            out.append(word)
    return out


def _is_task(word: str) -> bool:
    return "." in word and not word.startswith((".", "/")) and " " not in word


def _is_path(word: str) -> bool:
    return word.endswith((".yaml", ".yml")) or Path(word).exists()
