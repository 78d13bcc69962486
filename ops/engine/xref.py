"""Cross-references a schema cannot see: undo targets, outputs used later, params referenced, effects."""

from __future__ import annotations

import re
from typing import Any, Iterator

from ops import actions
from ops.engine import template
from ops.engine.load import Loaded
from ops.engine.model import EFFECT_RANK, RESERVED_FLAGS, Check, Param, Probe, Spec, Step, UndoStep
from ops.engine.problems import Path_, Problem, did_you_mean, json_path

__all__ = ["xref_problems"]

ROOTS = ("params", "target", "steps", "run")
TARGET_KEYS = ("name", "worker", "worker_url", "account_id", "api_base_url", "wrangler_config", "popular_keys",
               "health_url", "health_status")
Item = Check | Step | UndoStep


def xref_problems(spec: Spec, loaded: Loaded) -> list[Problem]:
    report = _Reporter(loaded)
    _check_params(spec, report)
    _check_names(spec, report)
    _check_actions(spec, report)
    _check_effects(spec, report)
    _check_references(spec, report)
    return sorted(set(report.problems))


class _Reporter:
    def __init__(self, loaded: Loaded) -> None:
        self.loaded = loaded
        self.problems: list[Problem] = []

    def __call__(self, path: Path_, message: str) -> None:
        self.problems.append(self.loaded.problem(path, message, json_path(path)))


def _items(spec: Spec) -> Iterator[tuple[Path_, Item]]:
    for i, probe in enumerate(spec.probes):
        yield ("probes", i), probe
    for i, pre in enumerate(spec.preconditions):
        yield ("preconditions", i), pre
    for i, step in enumerate(spec.steps):
        yield ("steps", i), step
    for i, undo in enumerate(spec.undo):
        yield ("undo", i), undo
    for i, check in enumerate(spec.verify.checks):
        yield ("verify", "checks", i), check


def _check_params(spec: Spec, report: _Reporter) -> None:
    for name, param in spec.params.items():
        path: Path_ = ("params", name)
        if name in RESERVED_FLAGS:
            report(path, f"param {name!r} clashes with the built-in flag --{name.replace('_', '-')}; rename it")
        elif not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            report(path, f"param name {name!r} must be lower_snake_case")
        for message in _param_problems(param):
            report(path, message)


def _param_problems(param: Param) -> Iterator[str]:
    default = param.default
    if param.pattern is not None:
        try:
            re.compile(param.pattern)
        except re.error as exc:
            yield f"pattern is not a valid regular expression: {exc}"
    if param.required and default is not None:
        yield "a required param cannot have a default; drop one of them"
    if default is None:
        return
    types: dict[str, type | tuple[type, ...]] = {"string": str, "path": str, "secret": str, "integer": int,
                                                  "number": (int, float), "boolean": bool}
    expected = types[param.type]
    if not isinstance(default, expected) or (param.type != "boolean" and isinstance(default, bool)):
        yield f"default {default!r} is not a {param.type}"
    elif param.type == "secret":
        kind = str(default).split(":", 1)[0]
        if kind not in param.sources:
            yield f"default {default!r} must be a source ({', '.join(param.sources)}), never a secret value"


def _check_names(spec: Spec, report: _Reporter) -> None:
    seen: dict[str, Path_] = {}
    for path, item in _items(spec):
        if item.name in seen:
            report((*path, "name"), f"name {item.name!r} is already used at {json_path(seen[item.name])}; names must be unique")
        else:
            seen[item.name] = path


def _check_actions(spec: Spec, report: _Reporter) -> None:
    known = actions.known_names()
    for path, item in _items(spec):
        if actions.get(item.action) is None:
            report((*path, "action"), f"unknown action type {item.action!r}{did_you_mean(item.action, known)}")


def _check_effects(spec: Spec, report: _Reporter) -> None:
    undo_names = {u.name for u in spec.undo}
    for i, step in enumerate(spec.steps):
        path: Path_ = ("steps", i)
        action = actions.get(step.action)
        if step.undo is not None and step.undo not in undo_names:
            report((*path, "undo"), f"undo {step.undo!r} is not defined under `undo:`{did_you_mean(step.undo, undo_names)}")
        if step.effect == "read" and (step.undo or step.irreversible):
            report(path, "a read step changes nothing: drop its undo/irreversible")
        if step.effect == "write" and step.irreversible:
            report((*path, "irreversible"), "a write step is undoable; if it cannot be undone, declare effect: destructive")
        if step.effect == "write" and not step.undo and not (action and action.supplies_undo(_args(action, step))):
            report(path, f"write step {step.name!r} needs an undo: name one under `undo:` "
                         f"(action {step.action!r} supplies none here), or declare it destructive with irreversible: <reason>")
        if step.effect == "destructive" and not step.irreversible:
            report(path, f"destructive step {step.name!r} needs irreversible: <why it cannot be undone>")
        if action is not None:
            inherent = action.effect(_args(action, step))
            if inherent is not None and EFFECT_RANK[inherent] > EFFECT_RANK[step.effect]:
                report((*path, "effect"), f"declared {step.effect!r} but {action.describe(_args(action, step))} has effect {inherent!r}")
    for path, item in _items(spec):
        if isinstance(item, Check):
            action = actions.get(item.action)
            if action is not None and action.effect(_args(action, item)) not in ("read", None):
                report((*path, "action"), f"{path[0]} must be read-only, but {action.describe(_args(action, item))} changes state")


def _args(action: Any, item: Item) -> Any:
    """The action's args if they validate statically; else a lenient stand-in (templates resolve at run time)."""
    try:
        return action.Args.model_validate(item.with_)
    except Exception:
        return action.Args.model_construct(**{k: v for k, v in item.with_.items()})


def _check_references(spec: Spec, report: _Reporter) -> None:
    order = [item.name for _, item in _items(spec)]
    step_index = {name: i for i, name in enumerate(order)}
    kinds = {item.name: item for _, item in _items(spec)}
    for idx, (path, item) in enumerate(_items(spec)):
        sources = {"with": item.with_, "expect": item.expect}
        for key, value in sources.items():
            for where, ref in _located_refs(value, (*path, key)):
                _check_ref(ref, where, idx, item, spec, step_index, kinds, report)
        when = getattr(item, "when", None)
        if when:
            try:
                _, ref = template.parse_condition(when)
            except ValueError as exc:
                report((*path, "when"), str(exc))
            else:
                _check_ref(ref, (*path, "when"), idx, item, spec, step_index, kinds, report)


def _located_refs(value: Any, path: Path_) -> Iterator[tuple[Path_, str]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _located_refs(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _located_refs(child, (*path, index))
    else:
        for ref in template.references(value):
            yield path, ref


def _check_ref(ref: str, path: Path_, idx: int, item: Item, spec: Spec,
               step_index: dict[str, int], kinds: dict[str, Item], report: _Reporter) -> None:
    parts = ref.split(".")
    root = parts[0]
    if root not in ROOTS:
        report(path, f"{{{{ {ref} }}}}: unknown root {root!r}{did_you_mean(root, ROOTS)} (use params., target. or steps.)")
    elif root == "params" and (len(parts) < 2 or parts[1] not in spec.params):
        name = parts[1] if len(parts) > 1 else ""
        report(path, f"{{{{ {ref} }}}}: no param {name!r}{did_you_mean(name, spec.params)}")
    elif root == "target" and (len(parts) != 2 or parts[1] not in TARGET_KEYS):
        report(path, f"{{{{ {ref} }}}}: target has {', '.join(TARGET_KEYS)}")
    elif root == "steps":
        _check_step_ref(ref, parts, path, idx, item, spec, step_index, kinds, report)


def _check_step_ref(ref: str, parts: list[str], path: Path_, idx: int, item: Item, spec: Spec,
                    step_index: dict[str, int], kinds: dict[str, Item], report: _Reporter) -> None:
    name = parts[1] if len(parts) > 1 else ""
    if name not in step_index:
        report(path, f"{{{{ {ref} }}}}: no step {name!r}{did_you_mean(name, step_index)}")
        return
    if isinstance(kinds[name], Probe) != isinstance(item, Probe):
        report(path, f"{{{{ {ref} }}}}: probes run only in `inv diagnose`; they and the run's steps cannot refer to each other")
        return
    later_is_fine = isinstance(item, UndoStep) or path[0] == "verify"
    if step_index[name] >= idx and not later_is_fine:
        report(path, f"{{{{ {ref} }}}}: step {name!r} runs later; only earlier steps' outputs can be used")
        return
    if len(parts) < 3 or parts[2] not in ("outputs", "status", "finished_at"):
        report(path, f"{{{{ {ref} }}}}: write steps.{name}.outputs.<key> (or steps.{name}.status, "
                     f"steps.{name}.finished_at)")
        return
    if parts[2] != "outputs":
        return
    action = actions.get(kinds[name].action)
    declared = action.outputs if action is not None else None
    if parts[2] == "outputs" and declared is not None and len(parts) > 3 and parts[3] not in declared:
        report(path, f"{{{{ {ref} }}}}: action {kinds[name].action!r} has no output {parts[3]!r}{did_you_mean(parts[3], declared)}")
