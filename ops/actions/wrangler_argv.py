"""Read a wrangler argv the way wrangler's parser (yargs-parser, as configured by wrangler 4.86) reads it.

The effect of a `wrangler` step is decided from what wrangler will do, not from
the words a spec happens to contain: the command path is the positional words,
and flags are read with yargs-parser's rules (wrangler-dist/cli.js, the
`parse` loop of yargs-parser and wrangler's `globalFlags`):

- `--flag=value` sets the value (a boolean flag is true only for `=true`);
- `--no-flag` sets it false (boolean negation), whatever the flag;
- `--flag true|false` consumes the next word for a boolean flag;
- a non-boolean flag consumes the next word unless it starts with `-`;
- `--dryRun` is `--dry-run` (camel-case expansion);
- `--` ends the flags.

Anything this reader is not sure of makes the call "not known to be read-only".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Parsed", "parse", "protect_values"]

# Boolean flags across the commands our specs use (globalFlags, deploy, versions, rollback, list commands).
BOOLEAN = frozenset({
    "dry-run", "json", "help", "h", "version", "v", "yes", "y", "force", "minify", "keep-vars", "latest",
    "experimental-provision", "x-provision", "experimental-auto-create", "x-auto-create", "remote", "local",
    "preview", "strict", "upload-source-maps", "logpush", "dispatch-namespace-inherit",
})
# Flags that take a value; a value starting with `-` must be written `--flag=value` or wrangler reads it as a flag.
VALUED = frozenset({
    "config", "c", "env", "e", "cwd", "env-file", "message", "tag", "name", "version-id", "namespace-id",
    "binding", "compatibility-date", "outdir", "outfile", "route", "var", "secrets-file", "file", "metadata",
})
DRY_RUN_COMMANDS = (("deploy",), ("versions", "upload"))


@dataclass
class Parsed:
    positionals: list[str] = field(default_factory=list)
    flags: dict[str, list[str | bool]] = field(default_factory=dict)
    doubtful: list[str] = field(default_factory=list)  # words this reader could not read with certainty

    def command_starts(self, path: tuple[str, ...]) -> bool:
        return tuple(self.positionals[: len(path)]) == path

    def only_true(self, name: str) -> bool:
        """The flag was given exactly once, and wrangler will read it as true."""
        return self.flags.get(name) == [True]


def parse(argv: list[str]) -> Parsed:
    parsed = Parsed()
    i = 0
    while i < len(argv):
        word = argv[i]
        i += 1
        if word == "--":
            parsed.positionals += argv[i:]
            break
        if not word.startswith("-") or re.fullmatch(r"-\d+(\.\d+)?", word):
            parsed.positionals.append(word)
            continue
        if word.startswith("---"):
            parsed.doubtful.append(word)
            continue
        body = word[2:] if word.startswith("--") else word[1:]
        if not word.startswith("--") and len(body) > 1 and "=" not in body[:2]:
            parsed.doubtful.append(word)  # a group of short flags (-abc)
            continue
        name, eq, value = body.partition("=")
        key = _kebab(name)
        if eq:
            _set(parsed, key, (value == "true") if key in BOOLEAN else value)
        elif key.startswith("no-") and word.startswith("--"):
            _set(parsed, _kebab(key[3:]), False)
        elif key in BOOLEAN:
            following = argv[i] if i < len(argv) else None
            if following in ("true", "false"):
                _set(parsed, key, following == "true")
                i += 1
            else:
                _set(parsed, key, True)
        else:
            following = argv[i] if i < len(argv) else None
            if following is not None and not following.startswith("-"):
                _set(parsed, key, following)
                i += 1
            else:
                _set(parsed, key, "")
            if key not in VALUED:
                parsed.doubtful.append(word)
    return parsed


def protect_values(argv: list[str]) -> list[str]:
    """`--message`, `-m`-style pairs whose value starts with `-` joined as `--message=VALUE`, so it stays data."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        nxt = argv[i + 1] if i + 1 < len(argv) else None
        key = _kebab(word.lstrip("-"))
        if word.startswith("-") and "=" not in word and key in VALUED and nxt is not None and nxt.startswith("-"):
            out.append(f"{word}={nxt}")
            i += 2
            continue
        if word == "--":
            out += argv[i:]
            break
        out.append(word)
        i += 1
    return out


def _set(parsed: Parsed, key: str, value: str | bool) -> None:
    parsed.flags.setdefault(key, []).append(value)


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", lambda m: "-" + m.group(1).lower(), name)
