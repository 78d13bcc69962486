"""Re-decide a past run's verdicts offline, from the evidence its journal kept, with other settings.

A ladder (``ops.actions.ladder``) journals every look it judged on as a ``ladder-look``:
the exact GraphQL query, its variables and answer, and the verdict. ``rejudge`` folds each
answer again (``ops.cloudflare.analytics.fold``, then ``ladder_rungs.look_from``: the
code the run used), replays the judge over each step's looks in order, and compares:

- with the settings of the day, every verdict must come back bit for bit (``reproduced``);
- with other settings (``judge`` overrides), it says at which step and look the decision
  would have changed, and what it would have been. A step can only be re-decided on the
  looks the run made: where the new settings decide nothing by the last one, the step
  would still have been undecided when the run moved on (or held).

``max_error_rate`` re-decides, as a fixed threshold would, each recorded output that has an
error rate: the verification's checks, and each ladder look's candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping

from ops.actions.ladder_rungs import look_from
from ops.cloudflare.analytics import fold, parse_since
from ops.errors import InputError
from ops.judge.compare import JudgeSettings, Look, judge

__all__ = ["Rejudged", "StepReplay", "rejudge"]


@dataclass
class StepReplay:
    """One ladder step replayed: what the run decided, at which look, and what the new settings decide."""

    step: int
    looks: int
    recorded: str
    recorded_at: int | None  # the look the run decided at; None: it never decided (it held, or the run moved on)
    replayed: str
    replayed_at: int | None  # None: the new settings decide nothing by the run's last look
    reproduced: int  # looks whose recorded verdict the settings of the day give back bit for bit
    mismatches: list[str] = field(default_factory=list)
    fixed_threshold: str | None = None  # what max_error_rate says of the candidate at the decided look

    @property
    def changed(self) -> bool:
        return self.replayed != self.recorded or self.replayed_at != self.recorded_at


@dataclass
class Rejudged:
    run: str
    steps: list[StepReplay]
    checks: list[dict[str, Any]]
    overrides: dict[str, Any]

    @property
    def reproduced(self) -> bool:
        return all(not s.mismatches for s in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "overrides": self.overrides, "reproduced": self.reproduced,
                "steps": [{**s.__dict__, "changed": s.changed} for s in self.steps], "checks": self.checks}


def rejudge(run: str, events: Iterable[Mapping[str, Any]], overrides: Mapping[str, Any] | None = None,
            max_error_rate: float | None = None) -> Rejudged:
    events = list(events)
    overrides = dict(overrides or {})
    by_step: dict[int, list[Mapping[str, Any]]] = {}
    for event in events:
        if event.get("event") == "ladder-look":
            by_step.setdefault(int(event["step"]), []).append(event)
    if not by_step and max_error_rate is None:
        raise InputError(f"run {run} has no ladder looks to re-decide (only a gradual rollback or promotion "
                         "journals them); give --max-error-rate to re-decide its checks against a fixed threshold")
    steps = [_replay(number, looks, overrides, max_error_rate) for number, looks in sorted(by_step.items())]
    checks = _checks(events, max_error_rate) if max_error_rate is not None else []
    return Rejudged(run, steps, checks, overrides)


def _replay(number: int, events: list[Mapping[str, Any]], overrides: Mapping[str, Any],
            max_error_rate: float | None) -> StepReplay:
    recorded_settings = JudgeSettings.from_dict(events[0]["settings"])
    settings = JudgeSettings.from_dict({**recorded_settings.to_dict(), **overrides})
    looks: list[Look] = [_look(event) for event in events]
    mismatches: list[str] = []
    reproduced = 0
    for i, event in enumerate(events):
        again = judge(looks[:i + 1], JudgeSettings.from_dict(event["settings"])).to_dict()
        if again == event["verdict"]:
            reproduced += 1
        else:
            mismatches.append(f"look {i + 1}: recorded {event['verdict'].get('outcome')}, "
                              f"replayed {again.get('outcome')} ({_first_difference(event['verdict'], again)})")
    recorded = [str(e["verdict"]["outcome"]) for e in events]
    recorded_at = next((i for i, o in enumerate(recorded, 1) if o != "inconclusive"), None)
    replayed_at: int | None = None
    replayed = "inconclusive"
    for i in range(1, len(looks) + 1):
        outcome = judge(looks[:i], settings).outcome
        if outcome != "inconclusive":
            replayed, replayed_at = outcome, i
            break
    decided = looks[(replayed_at or len(looks)) - 1].candidate
    fixed = None
    if max_error_rate is not None:
        rate = decided.errors / decided.requests if decided.requests else None
        fixed = ("no data" if rate is None else
                 f"candidate error rate {rate:.2%} {'<=' if rate <= max_error_rate else '>'} {max_error_rate:.2%}: "
                 + ("a fixed threshold passes it" if rate <= max_error_rate else "a fixed threshold fails it"))
    return StepReplay(number, len(looks), recorded[(recorded_at or len(recorded)) - 1], recorded_at, replayed,
                      replayed_at, reproduced,
                      mismatches, fixed)


def _look(event: Mapping[str, Any]) -> Look:
    where = (event.get("variables") or {}).get("filter") or {}
    since = parse_since(str(where.get("datetime_geq") or ""), "rejudge") or datetime.min
    until = parse_since(str(where.get("datetime_leq") or ""), "rejudge") or datetime.max
    folded = fold(event["answer"], since=since, until=until, tail_quantile=str(event.get("tail_quantile") or "p99"))
    return look_from(folded, str(event["control"]), str(event["candidate"]))


def _first_difference(a: Any, b: Any, path: str = "verdict") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_difference(x, y, f"{path}[{i}]")
    return f"{path}: {a!r} != {b!r}"


def _checks(events: list[Mapping[str, Any]], limit: float) -> list[dict[str, Any]]:
    """Each recorded output with an error rate, as a fixed threshold of ``limit`` would decide it."""
    out = []
    for event in events:
        outputs = event.get("outputs")
        if event.get("event") not in ("check", "precondition", "probe") or not isinstance(outputs, dict):
            continue
        rate = outputs.get("error_rate")
        if not isinstance(rate, (int, float)):
            continue
        out.append({"name": event.get("name"), "at": event.get("ts"), "error_rate": rate,
                    "recorded": event.get("outcome"), "within": rate <= limit})
    return out
