"""One request, prepared once: a task's flags and a saved plan become a checked ``Request``.

Every front end (the `inv remediate.*` tasks, a test, another program) goes through
``prepare``: it reads and checks a saved plan (``ops.engine.saved_plan``), merges the
target's param settings, resolves the params, checks the deadline, and builds the
request; ``Prepared.save_plan`` writes a plan after a dry-run. Nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.engine import saved_plan
from ops.engine.catalog import Entry
from ops.engine.config_params import settle
from ops.engine.journal import default_dir
from ops.engine.model import Spec
from ops.engine.outcome import Outcome
from ops.engine.params import resolve_params
from ops.engine.secret_rules import require_sent_secrets
from ops.engine.secret_delivery import SaveValue
from ops.engine.state import Request
from ops.errors import InputError, PlanStale
from ops.targets import Target, load_target

__all__ = ["Options", "Prepared", "prepare"]


@dataclass(frozen=True)
class Options:
    """The built-in flags every remediation task takes, other than the output's form."""

    dry_run: bool = False
    yes: bool = False
    deadline: Any = None
    plan_out: Path | None = None
    plan_ttl: Any = None
    save_value: str | None = None


@dataclass
class Prepared:
    entry: Entry
    request: Request
    flags: dict[str, Any]  # the params as given and as the target set them: what a saved plan replays
    save: SaveValue | None = None
    plan_out: Path | None = None
    plan_ttl: float = saved_plan.DEFAULT_TTL
    plan: saved_plan.SavedPlan | None = field(default=None, repr=False)

    def save_plan(self, outcome: Outcome) -> Path | None:
        """After a dry-run that planned: the signed plan, written to ``--plan-out``."""
        if self.plan_out is None or outcome.status != "planned":
            return None
        body = {"spec": self.entry.name, "digest": self.entry.digest, "plan_hash": outcome.plan_hash,
                "target": outcome.target, "target_name": self.request.target.name,
                "flags": {k: v for k, v in self.flags.items() if v is not None}, "contract": outcome.contract,
                "plan": outcome.as_dict()}
        saved_plan.write(self.plan_out, body, self.request.target, self.plan_ttl)
        return self.plan_out


def prepare(entry: Entry, flags: dict[str, Any], target: str | None, plan_file: Path | None,
            options: Options = Options()) -> Prepared:
    spec = Spec.model_validate(entry.data)
    if options.plan_out is not None and not options.dry_run:
        raise InputError("--plan-out goes with --dry-run: a plan is made without changing anything")
    if options.plan_ttl not in (None, "") and options.plan_out is None:
        raise InputError("--plan-ttl goes with --plan-out: it sets how long the plan written there may be applied")
    ttl = saved_plan.parse_ttl(options.plan_ttl)
    deadline = _deadline(options.deadline, spec)
    journal_dir = default_dir()
    plan = None
    if plan_file is not None:
        doc = saved_plan.read(plan_file)
        _check_spec(plan_file, doc, entry)
        tgt = load_target(target or _str(doc.get("target_name")))
        plan = saved_plan.verify(plan_file, doc, tgt, journal_dir)
        flags = dict(plan.flags)
    else:
        tgt = load_target(target)
    params = _params(spec, tgt, flags, options.dry_run)
    if not options.dry_run:
        require_sent_secrets(spec, params)  # a request's unset secret stops the run before any request; a plan shows it
    save = SaveValue.parse(str(options.save_value), params) if options.save_value else None
    request = Request(spec=spec, spec_digest=entry.digest, params=params, target=tgt, journal_dir=journal_dir,
                      dry_run=options.dry_run, yes=options.yes, deadline=deadline,
                      plan=plan.contract if plan else None, plan_nonce=plan.nonce if plan else None,
                      plan_expires_at=plan.expires_at if plan else None)
    return Prepared(entry, request, flags, save, options.plan_out, ttl, plan)


def _params(spec: Spec, target: Target, flags: dict[str, Any], dry_run: bool) -> dict[str, Any]:
    target.check_applies(spec.name)
    target.apply_env()
    settings, origins = target.param_settings(spec.name, {n: p.type for n, p in spec.params.items()}, flags,
                                              {n: p.default for n, p in spec.params.items()})
    flags.update(settings)
    settled = settle(spec, target, flags, origins)
    flags.update(settled.values)
    origins = {**origins, **settled.origins}
    for name, why in settled.unset.items():
        if spec.params[name].required and flags.get(name) in (None, ""):
            raise InputError(f"--{name.replace('_', '-')} is required on target {target.name}: {why}")
    return resolve_params(spec.params, flags, dry_run=dry_run, origins=origins)


def _check_spec(path: Path, doc: dict[str, Any], entry: Entry) -> None:
    if doc.get("spec") != entry.name:
        raise InputError(f"{path}: the plan is for remediate.{doc.get('spec')}, not remediate.{entry.name}")
    if doc.get("digest") != entry.digest:
        raise PlanStale(f"{path}: {Path(entry.path).name} changed since the plan was made; make a new plan")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _deadline(value: Any, spec: Spec) -> float | None:
    if value in (None, ""):
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise InputError(f"--deadline: {value!r} is not a number of seconds") from None
    if not spec.verify.hold < seconds <= 3600:
        raise InputError(f"--deadline: {seconds:g}s must exceed the verification's hold ({spec.verify.hold:g}s) "
                         "and be at most 3600")
    return seconds
