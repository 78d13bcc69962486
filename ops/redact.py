"""One redactor for every output: terminal, --json, journal, errors and reports.

A secret value is registered the moment it enters (from the environment, stdin,
a file or a generator); everything that leaves the process passes through it.

Two layers. Structured output (JSON documents, journal events, plan files) is
masked *in the data*: ``redact_data`` replaces secrets inside string values and
keys, and ``dumps`` serialises the masked data, so masking can never break a
document (a secret ``true`` masks the string "true", never the JSON literal).
Text output goes through ``redact``, the last resort, which matches every
encoding an output may carry the value in: raw, JSON-escaped (with and without
``\\uXXXX`` escapes), Python repr, URL-encoded (path, query and form styles),
base64 (standard and URL-safe, at each of the three byte alignments, so the
value is found inside a longer encoded blob too) and shell-quoted.

Registered values shorter than ``MIN_SECRET_LEN`` are refused rather than
silently left in the clear: redacting "a" would mangle all output. The marker
is chosen so that it can never contain, nor form together with its neighbours,
an encoding of a registered secret (see ``_pick_marker``).
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any

__all__ = ["MARKER", "MAX_SECRET_LEN", "MIN_SECRET_LEN", "Redactor", "dumps", "encodings", "redact", "redact_data", "register",
           "registry"]

MARKER = "***REDACTED***"
MIN_SECRET_LEN = 4
MAX_SECRET_LEN = 5 * 1024  # Cloudflare's limit on a Worker secret's size (5 KiB)
# Tried in order; the first whose edge characters no encoding of any secret uses wins.
_MARKERS = (MARKER, "###REDACTED###", "<<REDACTED>>", "~~REDACTED~~", "%%REDACTED%%", "[[REDACTED]]", "\u2588REDACTED\u2588")
MIN_ENCODED_LEN = 4  # a base64 core shorter than this would match ordinary text


def encodings(value: str) -> set[str]:
    """Every form in which `value` may appear in an output."""
    import base64
    import shlex
    from urllib.parse import quote, quote_plus

    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1], repr(value)[1:-1],
             ascii(value)[1:-1], quote(value, safe=""), quote(value), quote_plus(value), quote(value, safe="/:@"),
             shlex.quote(value), value.replace("'", "'\"'\"'")}
    raw = value.encode("utf-8", "surrogatepass")
    for lead in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * lead + raw).decode("ascii")
            # Characters wholly determined by the value's bits, whatever surrounds it in a longer blob.
            core = encoded[-(-8 * lead // 6):(8 * (lead + len(raw))) // 6]
            if len(core) >= MIN_ENCODED_LEN:
                forms.add(core)
    forms.add(base64.b64encode(raw).decode("ascii"))
    return {f for f in forms if f}


class Redactor:
    def __init__(self) -> None:
        self._values: set[str] = set()
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.marker = MARKER
        self._lock = threading.Lock()

    def register(self, value: str) -> None:
        if len(value) < MIN_SECRET_LEN:
            raise ValueError(f"a secret must be at least {MIN_SECRET_LEN} characters long")
        if len(value.encode("utf-8", "surrogatepass")) > MAX_SECRET_LEN:
            raise ValueError(f"a secret is at most {MAX_SECRET_LEN} bytes (5 KiB, as Cloudflare allows)")
        with self._lock:
            if value in self._values:
                return
            self._values.add(value)
            self._forms |= encodings(value)
            ordered = sorted(self._forms, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
            self.marker = _pick_marker(self._forms)

    def holds(self, value: str) -> bool:
        """Whether ``value`` is itself a registered secret (a webhook URL is its own destination)."""
        return value in self._values

    def finds(self, text: str) -> bool:
        """Whether ``text`` holds a registered secret in any encoding this redactor knows."""
        pattern = self._pattern
        return pattern is not None and pattern.search(text) is not None

    def redact(self, text: str) -> str:
        pattern = self._pattern
        if pattern is None or not pattern.search(text):
            return text
        if text.lstrip()[:1] in ("{", "["):
            document = _json_document(text)
            if document is not None:  # a JSON text: mask its values, so the result is still JSON
                body = self.dumps(document[0], indent=document[1], ensure_ascii=document[2])
                return body + text[len(text.rstrip()):]
        return pattern.sub(self.marker.replace("\\", "\\\\"), text)

    def redact_data(self, value: Any) -> Any:
        """Redact every string inside JSON-like data (dict keys included); other scalars are kept as they are."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact(str(k)): self.redact_data(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.redact_data(v) for v in value]
        return value

    def dumps(self, data: Any, **options: Any) -> str:
        """JSON text of `data`, masked at the value level (never in the text, which could break the document)."""
        return json.dumps(self.redact_data(_jsonable(data)), **options)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._forms.clear()
            self._pattern = None
            self.marker = MARKER


def _jsonable(value: Any) -> Any:
    """Plain JSON data; anything else becomes its text before masking, so `default=str` never reveals it after."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _json_document(text: str) -> tuple[Any, int | None, bool] | None:
    """The value of a JSON text, with the indent and escaping it was written with; None if it is not JSON."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    second = text.lstrip().split("\n", 2)[1] if "\n" in text.strip() else None
    indent = len(second) - len(second.lstrip(" ")) if second is not None else None
    return value, indent, text.isascii()


def _pick_marker(forms: set[str]) -> str:
    """A marker no occurrence of a secret can overlap: none contains its edge characters, none fits inside it."""
    for marker in _MARKERS:
        if not any(marker[0] in f or marker[-1] in f or f in marker for f in forms):
            return marker
    return "\x00" * 3  # every candidate collides (it takes several adversarial secrets): an unmistakable blank


registry = Redactor()
register = registry.register
redact = registry.redact
redact_data = registry.redact_data
dumps = registry.dumps
