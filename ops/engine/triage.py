"""One diagnosis from many findings: the cause to fix first, with its evidence, and what it explains.

A bad deploy makes a Worker fail, and a failing Worker makes every probe that looks
through it fail too: the cache looks cold, the providers slow, the queue backed up. A
triage that lists six fixes for one cause gets switched off, so the findings are
judged together, with the change that Cloudflare recorded last (the live deployment):

1. Nothing is a symptom: "nothing wrong", with the probes that passed as evidence, and
   the ones that could not tell, with why.
2. The live deployment changed a secret (``workers/triggered_by: secret``) and a
   remediation that fixes secrets (``cause: secret``) sees a symptom: that is the cause,
   and what the Worker answers without it follows from it. A fact of the account (a
   detached consumer) stays a finding of its own.
3. A remediation that fixes the live version (``cause: live-version``, rollback) sees
   the Worker failing: the live version is the cause. Every other symptom is a
   consequence, expected to clear once the version is replaced (run diagnose again).
4. Otherwise each remediation with a symptom is its own finding, ranked by evidence:
   a fact read from the account (a missing consumer, a missing secret, a binding to
   nothing) before a symptom seen only through the Worker's answers, then more symptoms
   before fewer, then the target's own order of its remediations.

Pure functions: the findings and the change come in, a ``Diagnosis`` goes out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol, Sequence

__all__ = ["Change", "Diagnosis", "rank"]

CODE = "code"
SECRET = "secret"


class FindingLike(Protocol):
    remediation: str
    probe: str
    status: str
    finding: str
    detail: str
    command: str
    via: str


@dataclass(frozen=True)
class Change:
    """The live deployment, as evidence: what changed last, and when."""

    version_id: str | None
    deployed_at: str | None
    triggered_by: str | None
    message: str | None = None

    @property
    def kind(self) -> str | None:
        if not self.triggered_by:
            return None
        return SECRET if self.triggered_by == "secret" else CODE

    def age(self, now: datetime | None = None) -> str:
        if not self.deployed_at:
            return "at an unknown time"
        try:
            then = datetime.fromisoformat(self.deployed_at.replace("Z", "+00:00"))
        except ValueError:
            return f"at {self.deployed_at}"
        seconds = int(((now or datetime.now(timezone.utc)) - then).total_seconds())
        for unit, size in (("d", 86_400), ("h", 3600), ("min", 60)):
            if seconds >= size:
                return f"{seconds // size} {unit} ago"
        return f"{max(seconds, 0)} s ago"

    def said(self) -> str:
        what = f"version {self.version_id}" if self.version_id else "a version"
        how = f" (triggered by {self.triggered_by})" if self.triggered_by else ""
        return f"the live deployment of {what} was made {self.age()}{how}"

    @classmethod
    def from_deployments(cls, deployments: list[dict[str, Any]]) -> Change:
        if not deployments:
            return cls(None, None, None)
        live = max(deployments, key=lambda d: str(d.get("created_on", "")))
        annotations = live.get("annotations") or {}
        versions = live.get("versions") or []
        main: dict[str, Any] = max(versions, key=lambda v: float(v.get("percentage", 0)), default={})
        return cls(str(main.get("version_id")) if main else None, live.get("created_on"),
                   annotations.get("workers/triggered_by"), annotations.get("workers/message"))


@dataclass
class Diagnosis:
    verdict: str                   # nothing-wrong | cause | symptoms | unknown
    remediation: str | None        # the one fix to run first
    command: str
    evidence: list[str] = field(default_factory=list)
    consequences: list[dict[str, str]] = field(default_factory=list)
    others: list[dict[str, str]] = field(default_factory=list)   # further causes, each its own fix
    reasoning: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rank(findings: Sequence[FindingLike], causes: dict[str, str], change: Change | None,
         priority: Sequence[str] = ()) -> Diagnosis:
    """``causes``: remediation -> what it fixes (``live-version``, ``secret``, or ``resource``); ``priority``: the
    target's own order of its remediations, which breaks ties between findings of equal weight."""
    symptoms = [f for f in findings if f.status == "symptom"]
    if not symptoms:
        return _nothing_wrong(findings, change)
    order = list(dict.fromkeys(f.remediation for f in symptoms))
    by = {name: [f for f in symptoms if f.remediation == name] for name in order}
    reasoning: list[str] = []
    if change is not None and change.kind:
        reasoning.append(change.said() + ".")
    primary = _secret_change(order, causes, change, reasoning) or _failing_version(order, causes, change, reasoning)
    if primary is not None:
        rest = [f for f in symptoms if f.remediation != primary]
        if causes.get(primary) == "live-version":  # a failing version explains what its Worker does, its queue too
            follows, apart = rest, []
            why = f"expected to clear after `{primary}`: seen while the live version fails"
        else:  # a secret explains what the Worker answers, not a fact of the account such as a detached consumer
            follows, apart = [f for f in rest if f.via == "worker"], [f for f in rest if f.via != "worker"]
            why = f"expected to clear after `{primary}`: the Worker answers without its secret"
        return Diagnosis("cause", primary, by[primary][0].command, _evidence(by[primary]),
                         [_item(f, why) for f in follows],
                         [_item(f, "a separate finding") for f in _first_per_remediation(apart)], reasoning)
    place = {name: i for i, name in enumerate(priority)}
    ranked = sorted(order, key=lambda name: (not any(f.via == "account" for f in by[name]), -len(by[name]),
                                             place.get(name, len(place)), order.index(name)))
    reasoning.append("no single change explains every symptom: each remediation below answers its own finding, "
                     "facts read from the account first")
    return Diagnosis("symptoms", ranked[0], by[ranked[0]][0].command, _evidence(by[ranked[0]]), [],
                     [_item(by[name][0], "a separate finding") for name in ranked[1:]], reasoning)


def _secret_change(order: list[str], causes: dict[str, str], change: Change | None, reasoning: list[str]) -> str | None:
    if change is None or change.kind != SECRET:
        return None
    fixes = [name for name in order if causes.get(name) == SECRET]
    if not fixes:
        return None
    reasoning.append(f"the last change was to a secret, and `{fixes[0]}` finds a secret missing or wrong: "
                     "the secret is the cause")
    return fixes[0]


def _failing_version(order: list[str], causes: dict[str, str], change: Change | None,
                     reasoning: list[str]) -> str | None:
    fixes = [name for name in order if causes.get(name) == "live-version"]
    if not fixes:
        return None
    if change is None or change.kind is None:
        reasoning.append("the live deployment could not be read; the Worker's own failure still points at its version")
    else:
        reasoning.append(f"the live version fails its checks since that change: `{fixes[0]}` replaces it, and a "
                         "Worker that fails explains the symptoms seen through it")
    return fixes[0]


def _nothing_wrong(findings: Sequence[FindingLike], change: Change | None) -> Diagnosis:
    healthy = [f for f in findings if f.status == "healthy"]
    unknown = [f for f in findings if f.status == "unknown"]
    evidence = [f"{f.remediation}/{f.probe}: healthy (not: {f.finding})" for f in healthy]
    reasoning = [change.said() + "." if change and change.kind else "the live deployment could not be read."]
    if unknown:
        reasoning.append(f"{len(unknown)} probe(s) could not tell; each says what would decide it")
    verdict = "nothing-wrong" if healthy else "unknown"
    return Diagnosis(verdict, None, "", evidence, [], [], reasoning)


def _first_per_remediation(findings: list[FindingLike]) -> list[FindingLike]:
    return list({f.remediation: f for f in reversed(findings)}.values())[::-1]


def _evidence(findings: list[FindingLike]) -> list[str]:
    return [f"{f.probe}: {f.finding} ({f.detail})" for f in findings]


def _item(f: FindingLike, why: str) -> dict[str, str]:
    return {"remediation": f.remediation, "probe": f.probe, "finding": f.finding, "detail": f.detail,
            "command": f.command, "why": why}
