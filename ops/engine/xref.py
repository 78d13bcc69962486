"""What a schema cannot see, resolved at check time against what each action type declares.

Every `with:` is checked against its action's argument shape (a Cloudflare
operation's own arguments, a polled action's `with:`), every `{{ … }}` is
parsed as a lookup and resolved to the type it will have, every expectation
names an output the action produces and uses a known operator, and effects,
undos, params and the verification's timing are consistent.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from ops import actions
from ops.documents.shape import BOOLEAN, INTEGER, NUMBER, STRING, Shape, check_value, shape_of_value, walk
from ops.engine import secret_rules, template
from ops.engine.load import Loaded
from ops.engine.model import EFFECT_RANK, RESERVED_FLAGS, Check, Param, Probe, Spec, Step, UndoStep
from ops.engine.problems import Path_, Problem, did_you_mean, json_path
from ops.engine.hazards import ADVICE, secret_problems, shell_problem
from ops.judge.expect import OPERATORS

__all__ = ["xref_problems"]

ROOTS = ("params", "target", "worker", "steps")
WORKER_KEYS = ("worker.secrets", "worker.needed_secrets", "worker.rolled_back_from")
TARGET_KEYS = ("name", "worker", "worker_url", "account_id", "api_base_url", "wrangler_config", "popular_keys",
               "health_url", "health_status", "wrangler_environment")
PARAM_SHAPES = {"string": STRING, "path": STRING, "secret": STRING, "integer": INTEGER, "number": NUMBER, "boolean": BOOLEAN}
ORDERING = ("<", "<=", ">", ">=")
Item = Check | Step | UndoStep


def xref_problems(spec: Spec, loaded: Loaded) -> list[Problem]:
    xref = _Xref(spec, loaded)
    xref.params()
    xref.timing()
    xref.names()
    xref.items()
    for path, message in secret_rules.secret_problems(spec, xref.listed):
        xref.report(path, message)
    return sorted(set(xref.problems))


class _Xref:
    def __init__(self, spec: Spec, loaded: Loaded) -> None:
        self.spec = spec
        self.loaded = loaded
        self.problems: list[Problem] = []
        self.listed = list(_items(spec))
        self.order = {item.name: i for i, (_, item) in enumerate(self.listed)}
        self.by_name = {item.name: item for _, item in self.listed}

    def report(self, path: Path_, message: str, offset: int | None = None) -> None:
        self.problems.append(self.loaded.problem(path, message, json_path(path), offset))

    # params and timing

    def params(self) -> None:
        for name, param in self.spec.params.items():
            path: Path_ = ("params", name)
            if name in RESERVED_FLAGS:
                self.report(path, f"param {name!r} clashes with the built-in flag --{name.replace('_', '-')}; rename it")
            elif not re.fullmatch(r"[a-z][a-z0-9_]*", name):
                self.report(path, f"param name {name!r} must be lower_snake_case")
            for key, message in _param_problems(param):
                self.report((*path, key) if key else path, message)

    def timing(self) -> None:
        verify = self.spec.verify
        if verify.hold and verify.hold >= verify.deadline:
            self.report(("verify", "hold"), f"hold ({verify.hold:g} s) must be shorter than the deadline "
                                            f"({verify.deadline:g} s), or the checks can never hold in time")

    def names(self) -> None:
        seen: dict[str, Path_] = {}
        for path, item in self.listed:
            if item.name in seen:
                self.report((*path, "name"), f"name {item.name!r} is already used at {json_path(seen[item.name])}; "
                                             "names must be unique")
            else:
                seen[item.name] = path

    # each probe, precondition, step, undo and check

    def items(self) -> None:
        undo_names = {u.name for u in self.spec.undo}
        for index, (path, item) in enumerate(self.listed):
            self.references(index, path, item)
            action = actions.get(item.action)
            if action is None:
                self.report((*path, "action"), f"unknown action type {item.action!r}{did_you_mean(item.action, actions.known_names())}")
                continue
            if self.arguments(path, item, action):
                self.effects(path, item, action, undo_names)
            self.expectations(path, item, action)

    def arguments(self, path: Path_, item: Item, action: Any) -> bool:
        """Check `with:`; whether its action is known well enough to judge its effect."""
        where = (*path, "with")
        known = self.operation(where, item.with_) if item.action == "cloudflare" else True
        shape = action.with_shape(item.with_)
        for at, message in check_value(item.with_, shape, where, self.typeof()):
            self.report(at, message)
        for at, value, below in walk(item.with_, shape, where):
            if below.secret and not self.is_secret_param(value):
                self.report(at, f"{at[-1]!r} carries a secret; {ADVICE}")
        for at, message, offset in secret_problems(item.with_, where):
            self.report(at, message, offset)
        if item.action == "run":
            for at, message in shell_problem(item.with_, where):
                self.report(at, message)
        return known

    def operation(self, where: Path_, with_: dict[str, Any]) -> bool:
        """Whether `op` names a known operation (reported when it does not)."""
        from ops.cloudflare.operations import OPERATIONS

        op = with_.get("op")
        if isinstance(op, str) and not template.REF.search(op) and op not in OPERATIONS:
            self.report((*where, "op"), f"unknown Cloudflare operation {op!r}"
                                        f"{did_you_mean(op, OPERATIONS) or '; known: ' + ', '.join(sorted(OPERATIONS))}")
            return False
        return True

    def expectations(self, path: Path_, item: Item, action: Any) -> None:
        self.expect(item.expect, (*path, "expect"), item.action, action.outputs_for(item.with_))
        for key, (polled, outputs) in action.nested_expectations(item.with_).items():
            if isinstance(item.with_.get(key), dict):
                self.expect(item.with_[key], (*path, "with", key), polled, outputs)

    def expect(self, expect: dict[str, Any], path: Path_, action_name: str, outputs: Shape) -> None:
        typeof = self.typeof()
        for key, matcher in expect.items():
            where = (*path, key)
            parts = key.split(".")
            shape, found = outputs.at(parts)
            if shape is None:
                known = outputs.at(parts[:found])[0]
                self.report(where, f"action {action_name!r} has no output {'.'.join(parts[:found + 1])!r}"
                                   f"{_suggest(parts[found], known)}")
                continue
            for at, message, offset in _matcher_problems(matcher, shape, where, typeof):
                self.report(at, message, offset)

    def effects(self, path: Path_, item: Item, action: Any, undo_names: set[str]) -> None:
        args = _args(action, item)
        if not isinstance(item, Step):
            if isinstance(item, Check) and action.effect(args) not in ("read", None):
                self.report((*path, "action"), f"{path[0]} must be read-only, but {action.describe(args)} changes state")
            return
        step = item
        if step.undo is not None and step.undo not in undo_names:
            self.report((*path, "undo"), f"undo {step.undo!r} is not defined under `undo:`{did_you_mean(step.undo, undo_names)}")
        if step.effect == "read" and (step.undo or step.irreversible):
            self.report(path, "a read step changes nothing: drop its undo/irreversible")
        if step.effect == "write" and step.irreversible:
            self.report((*path, "irreversible"), "a write step is undoable; if it cannot be undone, declare effect: destructive")
        if step.effect == "write" and not step.undo and not action.supplies_undo(args):
            self.report(path, f"write step {step.name!r} needs an undo: name one under `undo:` "
                              f"(action {step.action!r} supplies none here), or declare it destructive with irreversible: <reason>")
        if step.effect == "destructive" and not step.irreversible:
            self.report(path, f"destructive step {step.name!r} needs irreversible: <why it cannot be undone>")
        inherent = action.effect(args)
        if inherent is None and step.effect == "read":
            self.report((*path, "effect"), f"declared 'read' but {action.describe(args)} cannot be shown to change "
                                           "nothing; declare what it does (write, with an undo)")
        elif inherent is not None and EFFECT_RANK[inherent] > EFFECT_RANK[step.effect]:
            hint = " (a run is a write unless its with: gives read_only_reason)" if step.action == "run" else ""
            self.report((*path, "effect"), f"declared {step.effect!r} but {action.describe(args)} has effect {inherent!r}{hint}")

    # references

    def references(self, index: int, path: Path_, item: Item) -> None:
        for key in ("with", "expect"):
            for where, text in _strings(item.with_ if key == "with" else item.expect, (*path, key)):
                try:
                    refs = template.parse(text)
                except template.TemplateError as exc:
                    self.report(where, str(exc), exc.offset)
                    continue
                for ref in refs:
                    self.reference(ref.path, where, index, item, ref.start)
        when = getattr(item, "when", None)
        if when:
            try:
                terms = template.parse_condition(when)
            except ValueError as exc:
                self.report((*path, "when"), str(exc))
            else:
                for _, ref_path in terms:
                    self.reference(ref_path, (*path, "when"), index, item, None)

    def reference(self, ref: str, path: Path_, index: int, item: Item, offset: int | None) -> None:
        parts = ref.split(".")
        root, name = parts[0], parts[1] if len(parts) > 1 else ""
        shown = f"{{{{ {ref} }}}}"
        if root not in ROOTS:
            self.report(path, f"{shown}: unknown root {root!r}{did_you_mean(root, ROOTS)} (use params., target., worker. or steps.)", offset)
        elif root == "params" and (len(parts) != 2 or name not in self.spec.params):
            self.report(path, f"{shown}: no param {name!r}{did_you_mean(name, self.spec.params)}", offset)
        elif root == "target" and (len(parts) != 2 or name not in TARGET_KEYS):
            self.report(path, f"{shown}: the target has {', '.join(TARGET_KEYS)}{did_you_mean(name, TARGET_KEYS)}", offset)
        elif root == "worker" and ref not in WORKER_KEYS and (len(parts) != 3 or name != "secrets"):
            self.report(path, f"{shown}: write worker.secrets.NAME (true when the Worker needs the secret NAME), "
                              "worker.secrets (true when it needs any), worker.needed_secrets (their names) or "
                              "worker.rolled_back_from (the versions the journal shows were rolled back from)", offset)
        elif root == "steps":
            message = self.step_reference(ref, parts, path, index, item)
            if message:
                self.report(path, f"{shown}: {message}", offset)

    def step_reference(self, ref: str, parts: list[str], path: Path_, index: int, item: Item) -> str:
        name = parts[1] if len(parts) > 1 else ""
        if name not in self.order:
            return f"no step {name!r}{did_you_mean(name, self.order)}"
        target = self.by_name[name]
        if isinstance(target, Probe) != isinstance(item, Probe):
            return "probes run only in `inv diagnose`; they and the run's steps cannot refer to each other"
        later_is_fine = isinstance(item, UndoStep) or path[0] == "verify"
        if self.order[name] >= index and not later_is_fine:
            return f"step {name!r} runs later; only earlier steps' outputs can be used"
        if path[0] == "verify" and self.order[name] >= index and self.kind(name) == "verify":
            return f"check {name!r} runs later in each poll; a check can use only earlier checks' outputs"
        if len(parts) < 3 or parts[2] not in ("outputs", "status", "finished_at") or (parts[2] != "outputs" and len(parts) > 3):
            return f"write steps.{name}.outputs.<key> (or steps.{name}.status, steps.{name}.finished_at)"
        action = actions.get(target.action)
        if parts[2] != "outputs" or action is None:
            return ""
        outputs = action.outputs_for(target.with_)
        shape, found = outputs.at(parts[3:])
        if shape is None:
            known = outputs.at(parts[3:3 + found])[0]
            return (f"action {target.action!r} has no output {'.'.join(parts[3:4 + found])!r}"
                    f"{_suggest(parts[3 + found], known)}")
        return ""

    def kind(self, name: str) -> str:
        """Where an item is listed: probes, preconditions, steps, undo or verify."""
        return str(next(path[0] for path, item in self.listed if item.name == name))

    def typeof(self) -> Any:
        """The shape a string resolves to: None for literal text, a string for text with references in it."""
        def resolve(text: str) -> Shape | None:
            try:
                refs = template.parse(text)
            except template.TemplateError:
                return Shape()  # reported by references()
            if not refs:
                return None
            return self.shape_of(refs[0].path) if refs[0].whole else STRING

        return resolve

    def is_secret_param(self, value: Any) -> bool:
        whole = template.REF.fullmatch(value.strip()) if isinstance(value, str) else None
        param = self.spec.params.get(whole.group(1).removeprefix("params.")) if whole else None
        return whole is not None and whole.group(1).startswith("params.") and param is not None and param.type == "secret"

    def shape_of(self, ref: str) -> Shape:
        parts = ref.split(".")
        if parts[0] == "params" and len(parts) == 2 and parts[1] in self.spec.params:
            return PARAM_SHAPES[self.spec.params[parts[1]].type]
        if parts[0] == "target":
            return STRING
        if parts[0] == "steps" and len(parts) >= 3 and parts[1] in self.by_name:
            if parts[2] in ("status", "finished_at"):
                return STRING
            target = self.by_name[parts[1]]
            action = actions.get(target.action)
            if action is not None:
                return action.outputs_for(target.with_).at(parts[3:])[0] or Shape()
        return Shape()


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


def _strings(value: Any, path: Path_) -> Iterator[tuple[Path_, str]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _strings(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _strings(child, (*path, index))
    elif isinstance(value, str):
        yield path, value


def _suggest(word: str, known: Shape | None) -> str:
    keys = known.known_keys() if known is not None else []
    if not keys:
        return ""
    return did_you_mean(word, keys) or f"; it has {', '.join(keys)}"


def _param_problems(param: Param) -> Iterator[tuple[str, str]]:
    default, kind = param.default, param.type
    numeric, textual = kind in ("integer", "number"), kind in ("string", "path")
    pattern = None
    if param.pattern is not None:
        try:
            pattern = re.compile(param.pattern)
        except re.error as exc:
            yield "pattern", f"not a valid regular expression: {exc}"
    for key, applies, what in (("minimum", numeric, "integer and number"), ("maximum", numeric, "integer and number"),
                               ("pattern", textual, "string and path"), ("choices", textual, "string and path")):
        if getattr(param, key) is not None and not applies:
            yield key, f"{key} applies only to {what} params, not to a {kind}"
    if param.minimum is not None and param.maximum is not None and param.minimum > param.maximum:
        yield "minimum", f"minimum {param.minimum:g} is above maximum {param.maximum:g}"
    if param.required and default is not None:
        yield "", "a required param cannot have a default; drop one of them"
    if default is None:
        return
    if not PARAM_SHAPES[kind].admits(shape_of_value(default)):
        yield "default", f"default {default!r} is not a {kind}"
    elif kind == "secret":
        if str(default).split(":", 1)[0] not in param.sources:
            yield "default", f"default {default!r} must be a source ({', '.join(param.sources)}), never a secret value"
    elif numeric and isinstance(default, (int, float)):
        if param.minimum is not None and default < param.minimum:
            yield "default", f"default {default:g} is below the param's own minimum {param.minimum:g}"
        if param.maximum is not None and default > param.maximum:
            yield "default", f"default {default:g} is above the param's own maximum {param.maximum:g}"
    elif textual:
        if pattern is not None and not pattern.fullmatch(str(default)):
            yield "default", f"default {default!r} does not match the param's own pattern {param.pattern!r}"
        if param.choices is not None and default not in param.choices:
            yield "default", f"default {default!r} is not one of the param's own choices: {', '.join(param.choices)}"


def _matcher_problems(matcher: Any, output: Shape, where: Path_, typeof: Any) -> Iterator[tuple[Path_, str, int | None]]:
    """What is wrong with one expectation: `value` (equality) or `{op: value, …}`."""
    if isinstance(matcher, dict):
        unknown = [k for k in matcher if k not in OPERATORS]
        for key in unknown:
            yield (*where, key), (f"unknown expectation operator {key!r}{did_you_mean(key, OPERATORS)}; the operators are "
                                  f"{', '.join(OPERATORS)} (to compare with a mapping, write {{'==': {{...}}}})"), None
        if unknown:
            return
    pairs = list(matcher.items()) if isinstance(matcher, dict) else [("==", matcher)]
    for op, wanted in pairs:
        at: Path_ = (*where, op) if isinstance(matcher, dict) else where
        resolved = typeof(wanted) if isinstance(wanted, str) else None
        given = resolved if resolved is not None else shape_of_value(wanted)
        if op == "matches" and isinstance(wanted, str) and resolved is None:
            try:
                re.compile(wanted)
            except re.error as exc:
                yield at, f"not a valid regular expression: {exc.msg} (at position {exc.pos})", exc.pos
                continue
        message = _operand_problem(op, given, output)
        if message:
            yield at, message, None


def _operand_problem(op: str, given: Shape, output: Shape) -> str | None:
    if op == "matches":
        return None if given.admits(STRING) else f"matches takes a regular expression (a string), got {given.describe()}"
    if op == "exists":
        return None if given.admits(BOOLEAN) else f"exists takes true or false, got {given.describe()}"
    if op in ("in", "not_in"):
        return None if not given.types or given.types & {"array", "string"} else f"{op} takes a list, got {given.describe()}"
    if op in ("contains", "not_contains"):
        return None if not output.types or output.types & {"array", "string", "object"} else (
            f"{op} needs a list, a string or a mapping, but the output is {output.describe()}")
    if op in ORDERING and given.types and not given.types & {"integer", "number", "string"}:
        return f"{op} compares numbers, got {given.describe()}"
    if not output.admits(given) and not (op in ("==", "!=") and "null" in given.types):
        return f"the output is {output.describe()}, so comparing it with {given.describe()} can never hold"
    return None


def _args(action: Any, item: Item) -> Any:
    """The action's args if they validate statically; else a lenient stand-in (templates resolve at run time)."""
    try:
        return action.Args.model_validate(item.with_)
    except Exception:
        return action.Args.model_construct(**{k: v for k, v in item.with_.items()})
