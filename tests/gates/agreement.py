"""Agreement between the gate and wrangler's own verdicts, per env, split by error and warning.

wrangler validates the top level whenever it reads an env, so its verdict for env E covers the top level
and E; ours for E is the findings of layers 1 (schema) and 2 (wrangler's rules) in the top level and E.
Layer 3 (our own checks) never counts as agreement or disagreement: its errors where wrangler accepts the
config are the deliberate differences, counted apart.

Each wrangler warning is reduced to a key (unexpected field, non-inherited field or binding, ...);
a warning no rule of ours reproduces keeps its text as an ("other", ...) key and counts as missed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ops.documents.problem import DocumentError
from ops.gates.bindings import TOP, check
from ops.documents.config import load_config
from ops.gates.result import Finding
from ops.gates.schema import SchemaChoice, choose_schema

WARNING_KEYS = (
    (re.compile(r'"([a-z0-9_]+)" exists at the top level, but not on "env\.'), lambda m: [("not-inherited", m[1])]),
    (re.compile(r'"vars\.([^"]+)" exists at the top level'), lambda m: [("binding-not-inherited", "vars", m[1])]),
    (re.compile(r'There is a ([a-z_]+) binding with name "([^"]+)" at the top level'), lambda m: [("binding-not-inherited", m[1], m[2])]),
    (re.compile(r'The "([a-z_]+)" field in your configuration is an empty string'), lambda m: [("empty-string-ignored", m[1])]),
    (re.compile(r'"([a-z_]+)" fields are experimental'), lambda m: [("experimental-field", m[1])]),
    (re.compile(r"you have configured `durable_objects` exported by this Worker"), lambda m: [("durable-object-without-migration",)]),
    (re.compile(r'^Deprecation: "([^"]+)"'), lambda m: [("deprecated-field", m[1])]),
    (re.compile(r"Because you've defined a \[site\] configuration"), lambda m: [("site-entry-point-default",)]),
    (re.compile(r'The "([a-z-]+)" instance_type has been renamed'), lambda m: [("deprecated-instance-type",)]),
)
UNEXPECTED = re.compile(r"Unexpected fields found in (.+?) field: (.+)$")
LISTED = re.compile(r'(The following (vars|bindings) (?:exist|are) at the top level, but not on "env\.[^"]+(?:\.vars)?"\.(?:.|\n)*?:\n)((?:[ \t]*- [^\s"]+[ \t]*(?:\n|$))+)')


def wrangler_keys(text: str) -> set[tuple[str, ...]]:
    keys: set[tuple[str, ...]] = set()
    for match in LISTED.finditer(text):
        field_name = "vars" if match[2] == "vars" else re.search(r'since "([a-z_]+)"', match[1]).group(1)  # type: ignore[union-attr]
        keys.update(("binding-not-inherited", field_name, name) for name in re.findall(r"-\s+(\S+)", match[3]))
        text = text.replace(match[0], "(listed above)\n")
    for line in text.splitlines():
        bullet = re.match(r"^\s*- (.*)$", line)
        if not bullet or bullet[1] == "(listed above)" or re.match(r'^"env\.[^"]+" environment configuration$', bullet[1]):
            continue
        item = bullet[1]
        unexpected = UNEXPECTED.search(item)
        if unexpected:
            keys.update(("unexpected-field", name) for name in re.findall(r'"([^"]+)"', unexpected[2]))
            continue
        for pattern, make in WARNING_KEYS:
            found = pattern.search(item)
            if found:
                keys.update(make(found))
                break
        else:
            keys.add(("other", re.sub(r'"[^"]*"', '"…"', item)[:80]))
    return keys


def our_key(f: Finding) -> tuple[str, ...]:
    if f.code == "unexpected-field":
        return (f.code, str(f.detail["field"]))
    if f.code == "binding-not-inherited":
        return (f.code, str(f.detail["field"]), str(f.detail["binding"]))
    if f.code in ("not-inherited", "empty-string-ignored", "experimental-field", "deprecated-field"):
        return (f.code, str(f.detail["field"]))
    return (f.code,)


@dataclass
class Agreement:
    version: str
    envs: int = 0
    rejected: int = 0                 # envs wrangler rejects
    rejected_agreed: int = 0          # ... where we report an error (layers 1-2)
    accepted: int = 0                 # envs wrangler accepts
    accepted_agreed: int = 0          # ... where we report no error (layers 1-2)
    warnings: int = 0                 # wrangler warning items, summed over envs
    warnings_matched: int = 0
    warning_envs_equal: int = 0       # envs whose warning sets are equal
    extra_warnings: int = 0           # our layer 1-2 warnings wrangler does not print
    deliberate: list[str] = field(default_factory=list)   # layer-3 errors where wrangler accepts
    disagreements: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"wrangler {self.version}, {self.envs} envs: errors {self.rejected_agreed}/{self.rejected} rejected and "
                f"{self.accepted_agreed}/{self.accepted} accepted agree; warnings {self.warnings_matched}/{self.warnings} "
                f"reproduced, {self.extra_warnings} extra, {self.warning_envs_equal}/{self.envs} envs with equal warning sets")


def expected(path: Path) -> tuple[str, dict[str, Any]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if "cases" in data:
        return str(data["wrangler"]), data["cases"]
    return re.search(r"(\d+\.\d+(\.\d+)?)", path.name).group(1), data  # type: ignore[union-attr]


def measure(corpus: Path, verdicts: Path) -> Agreement:
    version, cases = expected(verdicts)
    schema = choose_schema(corpus / "x.toml", version=version)
    agreement = Agreement(version)
    for case, info in sorted(cases.items()):
        _case(agreement, corpus / "cases" / case / info["file"], case, info["envs"], schema)
    return agreement


def _case(agreement: Agreement, path: Path, case: str, envs: dict[str, Any], schema: SchemaChoice) -> None:
    try:
        findings = check(load_config(path), all_envs=True, schema=schema).findings
    except DocumentError as exc:
        findings = [Finding("error", "unparseable", str(exc), str(path), 1, 1, TOP, {"layer": "wrangler"})]
    for env, verdict in envs.items():
        agreement.envs += 1
        scope = [f for f in findings if f.env in (TOP, env)]
        ours = [f for f in scope if f.detail.get("layer") != "ours"]
        errors = [f for f in ours if f.severity == "error"]
        label = f"{case} [{env}]"
        if verdict["error"]:
            agreement.rejected += 1
            if errors:
                agreement.rejected_agreed += 1
            else:
                agreement.disagreements.append(f"{label}: wrangler rejects, we report no error: {verdict['error'][:160]!r}")
        else:
            agreement.accepted += 1
            if not errors:
                agreement.accepted_agreed += 1
            else:
                agreement.disagreements.append(f"{label}: wrangler accepts, we report {', '.join(sorted({f.code for f in errors}))}")
            agreement.deliberate.extend(f"{label}: {f.code}" for f in scope if f.detail.get("layer") == "ours" and f.severity == "error")
        theirs = wrangler_keys(verdict["warnings"])
        mine = {our_key(f) for f in ours if f.severity == "warning"}
        agreement.warnings += len(theirs)
        agreement.warnings_matched += len(theirs & mine)
        agreement.extra_warnings += len(mine - theirs)
        agreement.warning_envs_equal += theirs == mine
        agreement.disagreements.extend(f"{label}: wrangler warns, we do not: {key}" for key in sorted(theirs - mine))
        agreement.disagreements.extend(f"{label}: we warn, wrangler does not: {key}" for key in sorted(mine - theirs))
