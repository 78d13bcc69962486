"""Turn flag values into typed params, and secret sources into registered secret values.

A secret never arrives as a literal: its flag names a source (`env:NAME`,
`stdin`, `file:PATH` or `generate`), and the value is registered with the
redactor the moment it is read.
"""

from __future__ import annotations

import base64
import os
import re
import secrets as _secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from ops import redact
from ops.engine.model import Param
from ops.engine.template import UNKNOWN, Missing, Secret
from ops.errors import InputError

__all__ = ["SecretValue", "read_source", "resolve_params"]


@dataclass(frozen=True)
class MissingSecret(Missing):
    """A secret param left at a default source that is not available (e.g. an unset variable).

    It is no error until a step needs it: `cache-warm --kv-bulk` never sends the warm
    secret, so an unset CACHE_WARM_SECRET must not stop it. A step that needs the value
    stops with ``why`` (exit 2) before any change.
    """

    why: str
    source: str = ""

    def shown(self) -> str:
        return f"<secret: not set ({self.source})>" if self.source else "<secret: not set>"


@dataclass(frozen=True)
class SecretValue(Secret):
    """A resolved secret: its value is registered with the redactor and shown only as length and source."""

    value: str
    source: str

    def __str__(self) -> str:
        return self.value

    def shown(self) -> str:
        return f"<secret: {len(self.value)} chars from {self.source}>"


def resolve_params(spec_params: Mapping[str, Param], given: Mapping[str, Any], *, dry_run: bool,
                   stdin: Callable[[], str] | None = None, origins: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Typed values from the flags; ``origins`` names where a value came from when not from a flag
    (a target's `params` line), and a bad value's error names that line instead of the flag."""
    origins = origins or {}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for name, param in spec_params.items():
        raw = given.get(name)
        if raw is None or raw == "":
            raw = param.default
        flag = origins.get(name) or "--" + name.replace("_", "-")
        if raw is None:
            if param.required:
                problems.append(f"{flag} is required: {param.help}")
            values[name] = None
            continue
        try:
            values[name] = _coerce(param, raw, flag, dry_run, stdin)
        except InputError as exc:
            if param.type == "secret" and (given.get(name) in (None, "") and not param.required or name in origins):
                values[name] = MissingSecret(str(exc), str(raw))  # a default source (the spec's or the target's): an error only where used
            else:
                problems.append(str(exc))
    if problems:
        raise InputError("; ".join(problems))
    return values


def _coerce(param: Param, raw: Any, flag: str, dry_run: bool, stdin: Callable[[], str] | None) -> Any:
    kind = param.type
    if kind == "secret":
        return _secret(param, str(raw), flag, dry_run, stdin)
    if kind == "boolean":
        return _boolean(raw, flag)
    if kind in ("integer", "number"):
        return _number(param, raw, flag)
    text = str(raw)
    if "\x00" in text:
        raise InputError(f"{flag}: the value holds a NUL byte; remove it")
    if param.pattern is not None and not re.fullmatch(param.pattern, text):
        raise InputError(f"{flag}: {text!r} does not match the pattern {param.pattern!r}")
    if param.choices is not None and text not in param.choices:
        raise InputError(f"{flag}: {text!r} is not one of {', '.join(param.choices)}")
    return text


def _boolean(raw: Any, flag: str) -> bool:
    if isinstance(raw, bool):
        return raw
    lowered = str(raw).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise InputError(f"{flag}: expected true or false, got {raw!r}")


def _number(param: Param, raw: Any, flag: str) -> int | float:
    try:
        value: int | float = int(str(raw)) if param.type == "integer" else float(str(raw))
    except ValueError:
        raise InputError(f"{flag}: expected {'an integer' if param.type == 'integer' else 'a number'}, got {raw!r}") from None
    if param.minimum is not None and value < param.minimum:
        raise InputError(f"{flag}: {value} is below the minimum {param.minimum:g}")
    if param.maximum is not None and value > param.maximum:
        raise InputError(f"{flag}: {value} is above the maximum {param.maximum:g}")
    return value


def _secret(param: Param, source: str, flag: str, dry_run: bool, stdin: Callable[[], str] | None) -> Any:
    kind, _, rest = source.partition(":")
    if kind not in param.sources:
        raise InputError(f"{flag}: give a source ({', '.join(_forms(param))}), never the secret itself")
    if kind in ("env", "file"):
        value = read_source(source, flag) or ""  # never empty: not optional, so an empty source is an error
    elif kind == "stdin":
        if dry_run:
            return UNKNOWN  # read only when applying, so a dry-run never consumes it
        value = (stdin or _bounded_stdin)().rstrip("\r\n")
        _refuse_oversized(value, flag, "standard input")
        if not value:
            raise InputError(f"{flag}: standard input was empty; pipe the secret in")
    else:
        value = _generate(param)
    try:
        redact.register(value)
    except ValueError as exc:
        raise InputError(f"{flag}: {exc}") from None
    return SecretValue(value, kind if kind != "env" and kind != "file" else source)


def _bounded_stdin() -> str:
    return sys.stdin.read(redact.MAX_SECRET_LEN + 3)  # the value, a line break, and one more: too long is told


def _refuse_oversized(value: str, where: str, what: str) -> None:
    if len(value.encode("utf-8", "surrogatepass")) > redact.MAX_SECRET_LEN:
        raise InputError(f"{where}: {what} holds more than {redact.MAX_SECRET_LEN} bytes; a Worker secret is at most "
                         "5 KiB (Cloudflare's limit): give the secret itself, nothing else")


def _forms(param: Param) -> list[str]:
    forms = {"env": "env:NAME", "stdin": "stdin", "file": "file:PATH", "generate": "generate"}
    return [forms[s] for s in param.sources]


def read_source(source: str, where: str, *, optional: bool = False) -> str | None:
    """The value an ``env:NAME`` or ``file:PATH`` source names (the file's last line break dropped).

    An unset variable or an empty file is an error naming ``where``, or None when ``optional``.
    """
    kind, _, rest = source.partition(":")
    if kind not in ("env", "file"):
        raise InputError(f"{where}: write env:NAME or file:PATH, not {source!r}")
    if kind == "env":
        value = os.environ.get(rest, "") if rest else ""
        _refuse_oversized(value, where, f"environment variable {rest}")
        if not value and not optional:
            raise InputError(f"{where}: environment variable {rest or '(none named)'} is not set; "
                             "export it or pick another source")
        return value or None
    if not rest:
        raise InputError(f"{where}: write file:PATH")
    try:
        with Path(rest).open("rb") as handle:
            raw = handle.read(redact.MAX_SECRET_LEN + 3).rstrip(b"\r\n")  # never more: /dev/zero stops here
        if len(raw) > redact.MAX_SECRET_LEN:
            _refuse_oversized(raw.decode("utf-8", "replace"), where, rest)
        value = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: cannot read {rest}: {getattr(exc, 'strerror', None) or exc}") from None
    if not value and not optional:
        raise InputError(f"{where}: {rest} is empty")
    return value or None


def _generate(param: Param) -> str:
    raw = _secrets.token_bytes(param.generate.bytes)
    if param.generate.encoding == "hex":
        return raw.hex()
    if param.generate.encoding == "base64url":
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return base64.b64encode(raw).decode()
