"""`{{ dotted.path }}` references in spec values, resolved in one pass.

There are no expressions and no second pass: a param whose value contains
`{{ … }}` is substituted as data and never evaluated, so user input cannot
inject template syntax. A string that is exactly one reference keeps the
referenced value's type. ``parse`` is the check-time view of the same
grammar: anything between braces that is not a lookup (code, a filter, a
block, an unclosed `{{`) is an error that says what it is.
"""

from __future__ import annotations

import re
from urllib.parse import quote
from dataclasses import dataclass
from typing import Any

from ops.errors import OpsError

__all__ = ["UNKNOWN", "Missing", "Ref", "Secret", "TemplateError", "Unknown", "condition_holds", "parse", "references", "resolve"]

PATH = r"[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*"
REF = re.compile(r"\{\{\s*(" + PATH + r")\s*\}\}")
CONDITION = re.compile(r"^\s*(not\s+)?(" + PATH + r")\s*$")
_OPENERS = re.compile(r"\{\{|\{%|\{#")


@dataclass(frozen=True)
class Ref:
    """One `{{ path }}` in a string: the path, where it starts, and whether it is the whole string."""

    path: str
    start: int
    whole: bool


class TemplateError(ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def parse(text: str) -> list[Ref]:
    """The references in ``text``; a ``TemplateError`` (with its offset) for anything that is not a lookup."""
    refs: list[Ref] = []
    whole = REF.fullmatch(text.strip()) is not None
    for opener in _OPENERS.finditer(text):
        start = opener.start()
        if opener.group() == "{%":
            raise TemplateError("{% … %} is a template block; a template is only a lookup such as {{ params.name }}: "
                                "use `when:` to make a step conditional", start)
        if opener.group() == "{#":
            raise TemplateError("{# … #} is a template comment; write a YAML comment (#) instead", start)
        end = text.find("}}", start + 2)
        if end < 0:
            raise TemplateError("{{ is never closed with }}", start)
        inner = text[start + 2:end].strip()
        if re.fullmatch(PATH, inner):
            refs.append(Ref(inner, start, whole))
        else:
            raise TemplateError(_not_a_lookup(inner), start)
    return refs


def _not_a_lookup(inner: str) -> str:
    shown = f"{{{{ {inner} }}}}"
    if not inner:
        return f"{shown} is empty; write a lookup such as {{{{ params.name }}}}"
    if "|" in inner:
        return f"{shown} applies a filter (|); a template is only a lookup such as {{{{ params.name }}}}, with no filters"
    return f"{shown} is code, not a lookup; a template is only a dotted path such as {{{{ params.name }}}}"


class Unknown:
    """A value that only exists after a real run."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(known after apply)"

    __str__ = __repr__


UNKNOWN: Unknown = Unknown()


class Missing:
    """A value that is not available (a secret whose source is unset): it never becomes text.

    A string holding a reference to one resolves to the value itself, so the step that
    needs it stops with the value's own message instead of sending its repr.
    """


class Secret:
    """A secret's value: wherever it lands in a URL it is data, never structure."""


class UnresolvedReference(OpsError):
    """A `{{ … }}` that names nothing at run time (e.g. a probe's output lacks the key)."""


def references(value: Any) -> list[str]:
    if isinstance(value, str):
        return REF.findall(value)
    if isinstance(value, dict):
        return [ref for v in value.values() for ref in references(v)]
    if isinstance(value, list):
        return [ref for v in value for ref in references(v)]
    return []


def resolve(value: Any, scope: dict[str, Any], *, url_keys: frozenset[str] = frozenset()) -> Any:
    """``value`` with its references filled in; strings under the top-level keys ``url_keys`` are URLs,
    whose substituted values are percent-encoded for where they land (see ``_url_part``)."""
    if isinstance(value, dict) and url_keys:
        return {k: _resolve_url_value(v, scope) if k in url_keys else resolve(v, scope) for k, v in value.items()}
    if isinstance(value, str):
        return _resolve_str(value, scope)
    if isinstance(value, dict):
        return {k: resolve(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, scope) for v in value]
    return value


def _resolve_url_value(value: Any, scope: dict[str, Any]) -> Any:
    if isinstance(value, list):
        return [_resolve_url_value(v, scope) for v in value]
    if isinstance(value, str):
        return _resolve_str(value, scope, url=True)
    return resolve(value, scope)


def _resolve_str(text: str, scope: dict[str, Any], *, url: bool = False) -> Any:
    whole = REF.fullmatch(text.strip())
    if whole:
        return lookup(scope, whole.group(1))
    matches = list(REF.finditer(text))
    parts = [lookup(scope, m.group(1)) for m in matches]
    if any(p is UNKNOWN for p in parts):
        return UNKNOWN
    missing = next((p for p in parts if isinstance(p, Missing)), None)
    if missing is not None:
        return missing
    texts = [_url_part(text, m, p) if url else _text(p) for m, p in zip(matches, parts)]
    values = iter(texts)
    return REF.sub(lambda _m: next(values), text)


def _url_part(text: str, match: re.Match[str], value: Any) -> str:
    """A value's text where it lands in a URL template.

    The reference that starts the URL is its base (`{{ target.worker_url }}`), and one right after
    it, with no literal between, is a route the target or a param names (`/ai/summarize?text=x`):
    both are kept as written. Anywhere else (after a literal `/`, in the query, in the fragment) a
    value is data: percent-encoded whole, so `x/../y?z#w` stays one segment. A secret is always data.
    """
    if isinstance(value, Secret) or REF.sub("", text[:match.start()]):
        return quote(_text(value), safe="")
    return _text(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def lookup(scope: dict[str, Any], dotted: str) -> Any:
    current: Any = scope
    for part in dotted.split("."):
        if current is UNKNOWN:
            return UNKNOWN
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise UnresolvedReference(f"{{{{ {dotted} }}}} does not resolve (no {part!r})")
    return current


def parse_condition(text: str) -> tuple[bool, str]:
    match = CONDITION.match(text)
    if not match:
        raise ValueError(f"a condition is `path` or `not path`, got {text!r}")
    return bool(match.group(1)), match.group(2)


def condition_holds(text: str, scope: dict[str, Any]) -> bool | Unknown:
    negate, path = parse_condition(text)
    value: Any = lookup(scope, path)
    if isinstance(value, Unknown):
        return value
    return bool(not value) if negate else bool(value)


def condition_said(text: str) -> str:
    """Why a ``when:`` that does not hold skipped its item, as a sentence: ``not params.create`` -> ``--create is
    set``; ``params.replay_dlq`` -> ``--replay-dlq is not set``; ``worker.secrets.X`` -> ``the Worker needs no X``."""
    try:
        negate, path = parse_condition(text)
    except ValueError:
        return f"{text} does not hold"
    if path.startswith("params.") and path.count(".") == 1:
        return f"--{path.split('.', 1)[1].replace('_', '-')} is {'set' if negate else 'not set'}"
    if path.startswith("worker.secrets.") and not negate:
        return f"the Worker needs no {path.rsplit('.', 1)[1]}"
    return f"{path} is {'true' if negate else 'false or empty'}"
