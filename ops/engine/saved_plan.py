"""Saved plans (`--plan-out`, `--plan`): signed with the target's credential, single use, and expiring.

A plan file holds the contract (``ops.engine.contract``), the flags it was made
with, a random nonce and its expiry. It is signed with HMAC-SHA256 under a key
derived from the target's API token, which applying needs anyway: whoever edits
a plan cannot sign it again without that token, and a recomputed plain hash is
refused. Applying claims the nonce (a file created with O_EXCL under the journal
folder) before the first write, so a plan changes production once; a second
apply is refused with the time of the first.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from ops.errors import InputError, JournalError, PlanStale
from ops.targets import Target

__all__ = ["DEFAULT_TTL", "FORMAT", "MAX_BYTES", "SavedPlan", "claim", "parse_ttl", "read", "signature",
           "signing_key", "verify", "write"]

FORMAT = 3
MAX_BYTES = 1 << 20  # 1 MiB: a plan of hundreds of steps is a few tens of KB
DEFAULT_TTL = 3600.0
MAX_TTL = 7 * 86400.0
LABEL = b"cfw-remedy saved-plan signature v1"
NONCE = re.compile(r"^[0-9a-f]{32}$")
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


@dataclass(frozen=True)
class SavedPlan:
    """A plan file whose signature, spec, expiry and nonce have been checked."""

    path: Path
    nonce: str
    made_at: str
    expires_at: str
    flags: dict[str, Any]
    contract: dict[str, Any]


def signing_key(target: Target) -> bytes:
    """The key plans are signed with: derived from the token, never the token itself (which is never written)."""
    return hmac.new(str(target.token).encode("utf-8"), LABEL, hashlib.sha256).digest()


def signature(body: dict[str, Any], key: bytes) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def parse_ttl(value: Any) -> float:
    """`--plan-ttl`: seconds, or a number with s, m, h or d (90m, 2h)."""
    if value in (None, ""):
        return DEFAULT_TTL
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", str(value))
    if match is None:
        raise InputError(f"--plan-ttl: {value!r} is not a duration; write seconds or a number with s, m, h or d (90m)")
    seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if not 0 < seconds <= MAX_TTL:
        raise InputError(f"--plan-ttl: {value!r} must be more than 0 and at most 7 days")
    return seconds


def write(path: Path, body: dict[str, Any], target: Target, ttl: float, now: datetime | None = None) -> None:
    """Write ``body`` (spec, digest, contract, flags, …) as a signed plan that expires ``ttl`` seconds from now."""
    from ops.redact import dumps

    made = now or datetime.now(timezone.utc)
    doc = {"format": FORMAT, **body, "nonce": secrets.token_hex(16), "made_at": _iso(made),
           "expires_at": _iso(made + timedelta(seconds=ttl))}
    signed: dict[str, Any] = json.loads(dumps(doc))  # what is written is what is signed: masked values included
    signed["signature"] = signature(signed, signing_key(target))
    path.write_text(json.dumps(signed, indent=2) + "\n", encoding="utf-8")


def read(path: Path) -> dict[str, Any]:
    """A plan file's document, at most ``MAX_BYTES``, not yet trusted: ``verify`` checks it."""
    from ops.documents.source import read_bytes

    raw = read_bytes(path, max_bytes=MAX_BYTES, what="plan", root=Path("/"))
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not a plan file: byte {exc.start} is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}:{exc.colno}: not a plan file: {exc.msg}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("contract"), dict):
        raise InputError(f"{path}: not a plan file written by this version's --plan-out; make a new plan "
                         "with --dry-run --plan-out")
    return doc


def verify(path: Path, doc: dict[str, Any], target: Target, journal_dir: Path,
           now: datetime | None = None) -> SavedPlan:
    """Check the signature, then the expiry and that the plan was never applied."""
    recorded = doc.get("signature")
    body = {k: v for k, v in doc.items() if k != "signature"}
    if not isinstance(recorded, str) or not hmac.compare_digest(recorded, signature(body, signing_key(target))):
        raise PlanStale(f"{path}: the plan's signature does not match its body under target {target.name!r}'s "
                        "credential: it was edited after it was made, or made for another target; make a new plan "
                        "with --dry-run --plan-out")
    nonce, expires = str(doc.get("nonce", "")), _parse_iso(doc.get("expires_at"), path)
    if not NONCE.match(nonce):
        raise InputError(f"{path}: the plan's nonce is malformed; make a new plan")
    moment = now or datetime.now(timezone.utc)
    if moment > expires:
        raise PlanStale(f"{path}: the plan expired at {_iso(expires)} (made at {doc.get('made_at')}); "
                        "make a new plan with --dry-run --plan-out (--plan-ttl sets how long one lasts)")
    if (first := applied(journal_dir, nonce)) is not None:
        raise PlanStale(_applied_message(path, first))
    flags = doc.get("flags", {})
    return SavedPlan(path, nonce, str(doc.get("made_at")), _iso(expires), dict(flags) if isinstance(flags, dict) else {},
                     doc["contract"])


def applied(journal_dir: Path, nonce: str) -> dict[str, Any] | None:
    """When, and by which run, the plan with ``nonce`` was applied; None if it never was."""
    try:
        raw = _ledger(journal_dir, nonce).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"{_ledger(journal_dir, nonce)}: cannot read the record of applied plans: {exc.strerror}") from None
    try:
        first: dict[str, Any] = json.loads(raw)
    except ValueError:
        first = {"applied_at": "an unknown time (its record is unreadable)", "run": "?"}
    return first


def claim(journal_dir: Path, nonce: str, run_id: str | None, expires_at: str | None = None) -> bool:
    """Record that this run applies the plan; False when this run already had; PlanStale when another did,
    or when the plan expired since the run started (a confirmation can wait).

    The record is created with O_EXCL, so of two runs applying one plan at once, one wins.
    """
    if expires_at is not None and datetime.now(timezone.utc) > _parse_iso(expires_at, journal_dir):
        if applied(journal_dir, nonce) is None:
            raise PlanStale(f"the plan expired at {expires_at}, before its first write; make a new plan "
                            "with --dry-run --plan-out")
    record = {"applied_at": _iso(datetime.now(timezone.utc)), "run": run_id}
    try:
        (journal_dir / "plans-applied").mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(_ledger(journal_dir, nonce), os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                     0o600)
    except FileExistsError:
        first = applied(journal_dir, nonce) or {}
        if first.get("run") == run_id:
            return False
        raise PlanStale(_applied_message(None, first)) from None
    except OSError as exc:
        raise JournalError(f"cannot record that the plan was applied ({_ledger(journal_dir, nonce)}): "
                           f"{exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
    except OSError as exc:  # the claim stands (the file exists): the plan is used up, which is the safe side
        raise JournalError(f"cannot record when the plan was applied: {exc.strerror}") from None
    return True


def _applied_message(path: Path | None, first: dict[str, Any]) -> str:
    where = f"{path}: " if path else ""
    return (f"{where}this plan was already applied at {first.get('applied_at')} (run {first.get('run')}); a plan "
            "applies once: make a new plan with --dry-run --plan-out")


def _ledger(journal_dir: Path, nonce: str) -> Path:
    return journal_dir / "plans-applied" / f"{nonce}.json"


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse_iso(value: Any, path: Path) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{path}: the plan's expires_at {value!r} is not a time; make a new plan") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
