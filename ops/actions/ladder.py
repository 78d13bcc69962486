"""`ladder_plan` and `ladder`: move traffic to a version in steps, judging it against the live one at each.

``ladder_plan`` (a read, run in plans too) shows the whole ladder: each step's split and
deployment message. ``ladder`` climbs it. Each step is ONE deployment POST (two versions
by percentage, journaled with its message as ``ladder-step``). Then, every ``interval``
seconds, it reads analytics per version (``scriptVersion``) since that POST and judges
the target against the control over the same minutes (``ops.judge.compare``): every
look is journaled as ``ladder-look`` with the exact GraphQL query, its variables, the
answer, the samples, the settings and the verdict (``inv journal.rejudge`` re-decides
from these).

- better or no-worse: the next step;
- worse: at once, one POST back to the previous split (a fast undo, no analysis), and
  the step fails;
- inconclusive when the step's ``hold`` is over: it stops where it is and says so (the
  traffic stays on the step's split, named in the message; the step fails).

The last step (100%) leaves no control to judge against: the remediation's verification
judges it, as after an emergency rollback.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.actions.ladder_rungs import Split, describe_split, look_from, parse_settings, parse_steps, rung_message, split_for
from ops.errors import InputError
from ops.documents.shape import ANY, BOOLEAN, STRING, array, mapping, nullable, record

__all__ = ["LadderAction", "LadderPlanAction"]

API_BUDGET_S = 30.0  # one deployment POST or analytics read, at most


class LadderPlanArgs(Args):
    steps: str = Field("100", description="The target's share at each step, e.g. `10,50,100`; `100` is one step.")
    target_version: str = Field("", description="The version traffic moves to.")
    control_version: str = Field("", description="The live version it is judged against.")
    message: str = Field("", description="The run's deployment message; each step's adds where the ladder stands.")
    judge: str = Field("", description="The judge's settings, `k=v,k=v` (docs/judge.md); empty: its defaults.")


class LadderPlanAction(Action):
    name = "ladder_plan"
    Args = LadderPlanArgs
    summary = "The steps of a gradual rollback or promotion: each step's split and message, and the judge's settings."
    outputs = record(gradual=BOOLEAN, moves=BOOLEAN, steps=array(mapping()), settings=mapping(), shown=STRING)

    def describe(self, args: LadderPlanArgs) -> str:
        try:
            shares = parse_steps(args.steps)
        except InputError:
            return f"the ladder {args.steps}"
        return "the ladder: " + "; ".join(
            f"step {i}: {describe_split(split_for(args.target_version, args.control_version, share))}"
            + (" (judged against the live version)" if share < 100 else " (then verified)")
            for i, share in enumerate(shares, 1))

    def preflight(self, args: LadderPlanArgs) -> Outputs | None:
        parse_steps(args.steps)
        parse_settings(args.judge)
        return None

    def run(self, args: LadderPlanArgs, ctx: Context) -> Outputs:
        shares = parse_steps(args.steps)
        settings = parse_settings(args.judge)
        splits = [split_for(args.target_version, args.control_version, share) for share in shares]
        steps = [{"step": i, "share": share, "split": split,
                  "message": rung_message(args.message, i, len(shares), share, args.target_version),
                  "judged": share < 100} for i, (share, split) in enumerate(zip(shares, splits), 1)]
        shown = "; ".join(f"step {i}: {describe_split(split)}"
                          + (" (judged against the live version)" if share < 100 else " (then verified)")
                          for i, (share, split) in enumerate(zip(shares, splits), 1))
        gradual = len(shares) > 1
        # A split needs two versions: a ladder to the version that is live already has nowhere to go.
        moves = not gradual or args.target_version != args.control_version
        return {"gradual": gradual, "moves": moves, "steps": steps, "settings": settings.to_dict(), "shown": shown}


class LadderArgs(Args):
    script: str = Field(description="The Worker's name, e.g. `{{ target.worker }}`.")
    target_version: str = Field(description="The version traffic moves to (the candidate).")
    control_version: str = Field(description="The live version, judged against (the control).")
    steps: str = Field("10,50,100", description="The target's share at each step; the last is 100.")
    message: str = Field("", description="The deployment message; each step's adds where the ladder stands.")
    force: bool = Field(False, description="Deploy even though the versions' secrets differ (API error 10220).")
    interval: float = Field(15.0, ge=0.5, le=600, description="Seconds between two looks at analytics.")
    hold: float = Field(300.0, ge=1, le=86_400, description="Seconds a step may stay inconclusive before the ladder holds.")
    judge: str = Field("", description="The judge's settings, `k=v,k=v` (docs/judge.md); empty: its defaults.")


class LadderAction(Action):
    name = "ladder"
    Args = LadderArgs
    summary = "Move traffic to a version in steps (split deployments), judging it against the live one at each step."
    outputs = record(outcome=STRING, split=array(array(ANY)), steps=array(mapping()),
                     settings=mapping(), inconclusive=nullable(STRING))

    def effect(self, args: LadderArgs) -> str | None:
        return "write"

    def describe(self, args: LadderArgs) -> str:
        shares = " → ".join(f"{s}%" for s in parse_steps(args.steps))
        return (f"move {args.script}'s traffic to {args.target_version} in steps {shares}, judged against "
                f"{args.control_version} every {args.interval:g}s (each step holds at most {args.hold:g}s)")

    def preflight(self, args: LadderArgs) -> Outputs | None:
        parse_steps(args.steps)
        parse_settings(args.judge)
        return None

    def run(self, args: LadderArgs, ctx: Context) -> Outputs:
        return Climb(args, ctx).run()


class Climb:
    """One climb of the ladder: its steps so far, and where the traffic is."""

    def __init__(self, args: LadderArgs, ctx: Context) -> None:
        self.args, self.ctx = args, ctx
        self.shares = parse_steps(args.steps)
        self.settings = parse_settings(args.judge)
        self.client = ctx.cloudflare()
        self.split: Split = [(args.control_version, 100)]
        self.steps: list[dict[str, Any]] = []

    def run(self) -> Outputs:
        for number, share in enumerate(self.shares, 1):
            previous = self.split
            posted_at = self.deploy(split_for(self.args.target_version, self.args.control_version, share),
                                    rung_message(self.args.message, number, len(self.shares), share,
                                                 self.args.target_version), step=number)
            if share >= 100:
                self.steps.append({"step": number, "share": share, "split": self.split, "outcome": "verify",
                                   "reason": "no control left at 100%: the remediation's verification judges it"})
                break
            verdict = self.watch(number, share, posted_at)
            self.steps.append({"step": number, "share": share, "split": self.split, "outcome": verdict["outcome"],
                               "reason": verdict["reason"], "control_requests": verdict["control_requests"],
                               "candidate_requests": verdict["candidate_requests"]})
            if verdict["outcome"] == "worse":
                self.deploy(previous, f"{self.args.message} (step {number} judged worse: back to the previous split)",
                            step=number, undo=True)
                return self.stopped("returned", f"step {number} ({share}% to {self.args.target_version}) was judged "
                                                f"worse than {self.args.control_version}: {verdict['reason']} Traffic "
                                                f"went back at once to {describe_split(previous)}")
            if verdict["outcome"] == "inconclusive":
                return self.stopped("held", f"held at step {number}: no verdict within its hold of "
                                            f"{self.args.hold:g}s ({verdict['reason']}) Traffic stays on "
                                            f"{describe_split(self.split)}; rerun to go on, or move it by hand")
        return {"outcome": "completed", "split": self.split, "steps": self.steps,
                "settings": self.settings.to_dict(), "inconclusive": None}

    def stopped(self, outcome: str, why: str) -> Outputs:
        self.log("ladder-stopped", outcome=outcome, split=self.split, reason=why)
        return {"outcome": outcome, "split": self.split, "steps": self.steps, "settings": self.settings.to_dict(),
                "inconclusive": why}

    def deploy(self, split: Split, message: str, *, step: int, undo: bool = False) -> datetime:
        from ops.cloudflare import create_split_deployment

        with self.client.until(min(API_BUDGET_S, self.ctx.remaining())):
            made = create_split_deployment(self.client, self.args.script, split, message=message, force=self.args.force)
        posted_at = datetime.now(timezone.utc)
        self.split = list(split)
        self.log("ladder-undo" if undo else "ladder-step", step=step, split=split, message=message,
                 deployment_id=made.get("id"), posted_at=posted_at.isoformat(timespec="milliseconds"))
        if self.ctx.progress is not None:
            self.ctx.progress(f"{'back to' if undo else f'step {step}:'} {describe_split(split)}")
        return posted_at

    def watch(self, step: int, share: int, since: datetime) -> dict[str, Any]:
        """Look every interval until a verdict, or the hold is over: the last verdict, as a dict."""
        from ops.cloudflare.analytics import invocations_evidence
        from ops.judge.compare import judge

        looks = []
        deadline = time.monotonic() + self.args.hold
        versions = [self.args.control_version, self.args.target_version]
        while True:
            if self.ctx.cancel.wait(self.args.interval):
                raise KeyboardInterrupt
            until = datetime.now(timezone.utc)
            with self.client.until(min(API_BUDGET_S, self.ctx.remaining())):
                evidence = invocations_evidence(self.client, self.args.script, versions=versions, since=since, until=until)
            looks.append(look_from(evidence["folded"], self.args.control_version, self.args.target_version))
            verdict = judge(looks, self.settings).to_dict()
            self.log("ladder-look", step=step, look=len(looks), split=self.split,
                     control=self.args.control_version, candidate=self.args.target_version,
                     samples={"control": looks[-1].control.requests, "candidate": looks[-1].candidate.requests},
                     query=evidence["query"], variables=evidence["variables"], answer=evidence["answer"],
                     tail_quantile=evidence["folded"]["tail_quantile"], settings=self.settings.to_dict(),
                     verdict=verdict)
            if self.ctx.progress is not None:
                self.ctx.progress(f"step {step} ({share}%): {verdict['outcome']}: {verdict['reason']}")
            if verdict["outcome"] != "inconclusive" or time.monotonic() >= deadline:
                return verdict

    def log(self, kind: str, **fields: Any) -> None:
        if self.ctx.journal is not None:
            self.ctx.journal(kind, **fields)
