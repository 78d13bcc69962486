"""The ladder of a gradual rollback or promotion, and the evidence each rung is judged on. Pure: no I/O.

A ladder moves traffic from the live version (the control) to a target version (the
candidate) in steps, ``10,50,100``: each step is one split deployment (the target's
share, the control's the rest), judged target against control over the same minutes
(``ops.judge.compare``) before the next. ``look_from`` turns one analytics answer into
the judge's cumulative look; the ladder and ``inv journal.rejudge`` both use it, so a
verdict re-decided from the journal sees what the run saw.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from ops.errors import InputError
from ops.judge.compare import Arm, JudgeSettings, Look

__all__ = ["Split", "describe_split", "look_from", "parse_settings", "parse_steps", "rung_message", "split_for"]

Split = list[tuple[str, int]]  # (version id, percentage), as one deployment's versions
_QUANTILES = {"p50": "P50", "p95": "P95", "p99": "P99"}


def parse_steps(text: str, where: str = "--steps") -> list[int]:
    """``"10,50,100"`` → [10, 50, 100]: whole percentages, rising, ending at 100."""
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    try:
        shares = [int(p.removesuffix("%")) for p in parts]
    except ValueError:
        raise InputError(f"{where} {text!r}: write whole percentages separated by commas, e.g. 10,50,100") from None
    if not shares or shares[-1] != 100:
        raise InputError(f"{where} {text!r}: the last step must be 100 (all traffic on the target), e.g. 10,50,100")
    if any(not 0 < s <= 100 for s in shares) or any(b <= a for a, b in zip(shares, shares[1:])):
        raise InputError(f"{where} {text!r}: each step is a percentage from 1 to 100, each larger than the one "
                         "before, e.g. 10,50,100")
    return shares


def parse_settings(text: str | Mapping[str, Any], where: str = "--judge") -> JudgeSettings:
    """The judge's settings from ``k=v,k=v`` (``critical=error_rate+wall_time``), or from a dict; "" the defaults."""
    if isinstance(text, Mapping):
        return JudgeSettings.from_dict(text)
    values: dict[str, Any] = {}
    for item in (i.strip() for i in str(text).split(",") if i.strip()):
        key, eq, raw = item.partition("=")
        if not eq or not key.strip():
            raise InputError(f"{where} {text!r}: write key=value pairs separated by commas, e.g. min_requests=50,alpha=0.01")
        values[key.strip()] = _value(key.strip(), raw.strip())
    try:
        return JudgeSettings.from_dict(values)
    except TypeError as exc:
        raise InputError(f"{where} {text!r}: {exc}") from None


def _value(key: str, raw: str) -> Any:
    if key == "critical":
        return tuple(p for p in raw.split("+") if p)
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            continue
    return raw


def split_for(target: str, control: str, share: int) -> Split:
    """The deployment of one step: the target at ``share`` percent, the control the rest."""
    return [(target, 100)] if share >= 100 else [(target, share), (control, 100 - share)]


def describe_split(split: Sequence[tuple[str, int]]) -> str:
    return " + ".join(f"{share}% {version}" for version, share in split)


def rung_message(message: str, step: int, steps: int, share: int, target: str) -> str:
    """The deployment's message annotation for one step: the run's message, then where the ladder stands."""
    return f"{message} (step {step}/{steps}: {share}% to {target})"


def look_from(folded: Mapping[str, Any], control: str, target: str) -> Look:
    """One analytics answer (``ops.cloudflare.analytics.fold``, cumulative since the step) as the judge's look."""
    by_version = folded.get("by_version") or {}
    return Look(control=_arm(by_version.get(control) or {}), candidate=_arm(by_version.get(target) or {}))


def _arm(numbers: Mapping[str, Any]) -> Arm:
    wall = numbers.get("wall_ms") or {}
    quantiles = {name: float(wall[key]) for key, name in _QUANTILES.items() if wall.get(key) is not None}
    return Arm(requests=int(numbers.get("requests") or 0), errors=int(numbers.get("errors") or 0),
               quantiles=quantiles or None)
