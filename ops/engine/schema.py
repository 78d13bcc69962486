"""Generate the spec's JSON Schema from the models and the action registry, and validate with it.

The generated file, ``schemas/remediation.schema.json``, is committed so
editors can complete and check specs (through the ``yaml-language-server``
modeline); a test fails when it is stale. Run ``inv specs.schema`` to refresh it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from ops.resources import shipped

__all__ = ["SCHEMA_ID", "SCHEMA_PATH", "generate", "validator"]

SCHEMA_ID = "https://github.com/cfw-remedy/cfw-remedy/schemas/remediation.schema.json"
SCHEMA_PATH = shipped("schemas") / "remediation.schema.json"
STEP_LIKE = ("Check", "Precondition", "Probe", "Step", "UndoStep")
TEMPLATE = {"type": "string", "pattern": r"^\s*\{\{.*\}\}\s*$", "description": "A `{{ … }}` reference."}


def generate() -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema

    from ops import actions
    from ops.engine.model import Spec

    registered = {name: actions.get(name) for name in actions.known_names()}
    models: list[Any] = [(Spec, "validation")]
    models += [(a.Args, "validation") for a in registered.values() if a is not None]
    _, top = models_json_schema(models, by_alias=True, ref_template="#/$defs/{model}")
    defs: dict[str, Any] = top["$defs"]
    for name, action in registered.items():
        if action is not None:
            _allow_templates(defs[action.Args.__name__])
    names = sorted(registered)
    for model in STEP_LIKE:
        _constrain_action(defs[model], names, registered)
    spec = defs.pop("Spec")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "cfw-remedy remediation spec",
        "description": "A remediation: typed params, preconditions, steps with their effect and undo, and verification. "
                       "Compiled into `inv remediate.<name>`.",
        **{k: v for k, v in spec.items() if k not in {"title", "description"}},
        "$defs": defs,
    }


def _allow_templates(args_schema: dict[str, Any]) -> None:
    for name, prop in args_schema.get("properties", {}).items():
        if prop.get("type") == "string":
            continue
        args_schema["properties"][name] = {"anyOf": [_strip_meta(prop), TEMPLATE], **_meta(prop)}


def _meta(prop: dict[str, Any]) -> dict[str, Any]:
    return {k: prop[k] for k in ("title", "description", "default") if k in prop}


def _strip_meta(prop: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in prop.items() if k not in ("title", "description", "default")}


def _constrain_action(model: dict[str, Any], names: list[str], registered: dict[str, Any]) -> None:
    model["properties"]["action"] = {**model["properties"]["action"], "enum": names}
    model["allOf"] = [
        {
            "if": {"properties": {"action": {"const": name}}, "required": ["action"]},
            "then": {"properties": {"with": {"$ref": f"#/$defs/{action.Args.__name__}"}}},
        }
        for name, action in registered.items() if action is not None
    ]


def write(path: Path = SCHEMA_PATH) -> None:
    path.write_text(render(), encoding="utf-8")


def render() -> str:
    return json.dumps(generate(), indent=2, sort_keys=False) + "\n"


@lru_cache(maxsize=1)
def validator() -> Any:
    """The committed schema, when it describes what is registered: reading it costs 2 ms of CPU, generating it 120
    (every ``inv`` compiles a spec). Generated when a package adds action types, or when a module the models live in
    is newer than the file (a checkout being worked on, until ``inv specs.schema``; a test keeps the two equal)."""
    from jsonschema import Draft202012Validator

    committed = _committed()
    return Draft202012Validator(committed if committed is not None else generate())


def _committed() -> dict[str, Any] | None:
    from ops import actions
    from ops.actions.builtin import BUILTIN
    from ops.resources import PACKAGE

    if set(actions.known_names()) != set(BUILTIN):
        return None
    try:
        written = SCHEMA_PATH.stat().st_mtime
        if any(path.stat().st_mtime > written for folder in ("engine", "actions") for path in (PACKAGE / folder).glob("*.py")):
            return None
        loaded = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None
