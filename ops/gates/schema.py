"""Layer 1: wrangler's published JSON Schema (``config-schema.json``), applied with jsonschema.

The schema is the one of the wrangler the checked repository uses: its
``node_modules/wrangler/config-schema.json`` when installed, else the shipped
copy (``ops/gates/wrangler/config-schema-<version>.json``) of the newest
shipped version not above the one the repository declares (lockfile, then
``package.json``), else the newest shipped copy. ``SchemaChoice.note`` says
which one the verdict follows.

Severity: a property the schema does not know (``additionalProperties``) is a
warning, ``unexpected-field``, because wrangler itself only warns about
unexpected fields ("Unexpected fields found in ... field") and deploys anyway;
every other schema violation (a missing required field, a wrong type, a value
outside an enum) is an error, ``schema-<keyword>``, as wrangler rejects those.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from ops.documents.config import Config, Key
from ops.gates.result import Finding

SHIPPED = Path(__file__).parent / "wrangler"
TOP = "<top>"
# Top-level and env fields wrangler's validation reads although a published schema may lack them: wrangler
# 4.86 validates `cache` (validateCache in validation.ts) but its schema has no such property; `node_compat`
# is rejected as removed (layer 2's removed-field), never reported as unexpected.
KNOWN_TO_VALIDATION = frozenset({"cache", "node_compat"})


@dataclass(frozen=True)
class SchemaChoice:
    version: str        # the wrangler version whose schema (and rules) the verdict follows
    path: Path | None   # None: no schema at all, layer 1 is skipped (the note says so)
    note: str           # which schema the verdict follows, and why


def shipped_versions() -> dict[str, Path]:
    found = {}
    for path in SHIPPED.glob("config-schema-*.json"):
        found[path.stem.removeprefix("config-schema-")] = path
    return dict(sorted(found.items(), key=lambda item: version_key(item[0])))


def version_key(version: str) -> tuple[int, ...]:
    parts = [int(part) for part in re.findall(r"\d+", version)[:3]]
    return tuple(parts + [0] * (3 - len(parts)))


def declared_wrangler(start: Path) -> tuple[str | None, Path | None, str]:
    """(version, installed package folder, where it was read) for the project holding ``start``."""
    for folder in (start, *start.parents):
        installed = folder / "node_modules" / "wrangler" / "package.json"
        if installed.is_file():
            version = _json(installed).get("version")
            if isinstance(version, str):
                return version, installed.parent, str(installed)
        for reader in (_package_lock, _pnpm_lock, _yarn_lock, _package_json):
            found = reader(folder)
            if found:
                return found, None, found_in(folder, reader)
    return None, None, ""


def found_in(folder: Path, reader: Any) -> str:
    names = {"_package_lock": "package-lock.json", "_pnpm_lock": "pnpm-lock.yaml", "_yarn_lock": "yarn.lock",
             "_package_json": "package.json"}
    return str(folder / names[reader.__name__])


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _package_lock(folder: Path) -> str | None:
    path = folder / "package-lock.json"
    if not path.is_file():
        return None
    entry = (_json(path).get("packages") or {}).get("node_modules/wrangler") or {}
    return entry.get("version") if isinstance(entry.get("version"), str) else None


def _pnpm_lock(folder: Path) -> str | None:
    path = folder / "pnpm-lock.yaml"
    if not path.is_file():
        return None
    match = re.search(r"^\s+/?wrangler@(\d+\.\d+\.\d+)", path.read_text(encoding="utf-8", errors="replace"), re.MULTILINE)
    return match.group(1) if match else None


def _yarn_lock(folder: Path) -> str | None:
    path = folder / "yarn.lock"
    if not path.is_file():
        return None
    match = re.search(r'^"?wrangler@[^\n]*:\n\s+version:? "?(\d+\.\d+\.\d+)', path.read_text(encoding="utf-8", errors="replace"),
                      re.MULTILINE)
    return match.group(1) if match else None


def _package_json(folder: Path) -> str | None:
    data = _json(folder / "package.json")
    for section in ("devDependencies", "dependencies"):
        spec = (data.get(section) or {}).get("wrangler")
        if isinstance(spec, str):
            match = re.search(r"\d+(\.\d+){0,2}", spec)
            if match:
                return match.group(0)
    return None


def choose_schema(config_path: Path, version: str | None = None) -> SchemaChoice:
    """The schema to apply to ``config_path``: the repository's installed one, else a shipped copy."""
    shipped = shipped_versions()
    if not shipped:
        declared, installed, _ = declared_wrangler(config_path.resolve().parent)
        if installed is not None and declared and (installed / "config-schema.json").is_file():
            return SchemaChoice(declared, installed / "config-schema.json", f"wrangler {declared} ({installed}/config-schema.json)")
        return SchemaChoice(version or declared or "4.86.0", None,
                            "no wrangler schema: the shipped copies are missing from this install (ops/gates/wrangler/) and "
                            "no node_modules/wrangler was found; schema checks skipped, install the package with its data")
    newest = list(shipped)[-1]
    if version is not None:
        pick = _at_most(shipped, version)
        return SchemaChoice(pick, shipped[pick], f"wrangler {pick} (shipped schema; --wrangler-version {version})")
    declared, installed, where = declared_wrangler(config_path.resolve().parent)
    if installed is not None and (installed / "config-schema.json").is_file() and declared:
        return SchemaChoice(declared, installed / "config-schema.json", f"wrangler {declared} ({installed}/config-schema.json)")
    if declared is None:
        return SchemaChoice(newest, shipped[newest], f"wrangler {newest} (shipped schema; no wrangler declared for this config)")
    pick = _at_most(shipped, declared)
    return SchemaChoice(pick, shipped[pick], f"wrangler {pick} (shipped schema; {where} declares {declared}, not installed)")


def _at_most(shipped: dict[str, Path], version: str) -> str:
    fitting = [v for v in shipped if version_key(v) <= version_key(version)]
    return fitting[-1] if fitting else list(shipped)[0]


@lru_cache(maxsize=4)
def _validator(path: Path) -> Any:
    from jsonschema import Draft7Validator

    return Draft7Validator(json.loads(path.read_text(encoding="utf-8")))


def schema_findings(config: Config, choice: SchemaChoice, envs: list[str]) -> Iterator[Finding]:
    """Every schema violation in the top level and in ``envs`` (each env is a RawEnvironment)."""
    if choice.path is None:
        return
    validator = _validator(choice.path)
    errors = list(validator.iter_errors(config.data))
    # wrangler skips the unexpected-field check of an object that misses a required field
    incomplete = {tuple(e.absolute_path) for e in errors if e.validator == "required"}
    for error in errors:
        key: Key = tuple(error.absolute_path)
        env = str(key[1]) if len(key) > 1 and key[0] == "env" else TOP
        if env != TOP and env not in envs or error.validator == "additionalProperties" and key in incomplete:
            continue
        if len(key) == 2 and key[0] == "env" and error.validator == "type" and isinstance(error.instance, list):
            yield from _list_env(config, key, error.instance, env)  # wrangler reads its indexes as unexpected fields
            continue
        yield from _findings(config, error, key, env, choice)


def _list_env(config: Config, key: Key, items: list[Any], env: str) -> Iterator[Finding]:
    line, col = config.where(key)
    for index in range(len(items)):
        yield Finding("warning", "unexpected-field", f'"env.{env}" is a list, not a table: wrangler ignores its item {index}; '
                      f'write [env.{env}] with the settings for that environment', str(config.path), line, col, env,
                      {"field": str(index), "parent": f"env.{env}", "layer": "schema"})


def _findings(config: Config, error: Any, key: Key, env: str, choice: SchemaChoice) -> Iterator[Finding]:
    where = _dotted(key)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(error.schema.get("properties", {}))
        if len(key) in (0, 2) and (not key or key[0] == "env"):
            known |= KNOWN_TO_VALIDATION
        for name in sorted(k for k in error.instance if k not in known):
            line, col = config.where((*key, name))
            yield Finding("warning", "unexpected-field",
                          f'unexpected field "{name}" in {where or "the top level"}: wrangler {choice.version} does not know it '
                          "and ignores it; remove it or check its spelling", str(config.path), line, col, env,
                          {"field": name, "parent": where or "top-level", "layer": "schema"})
        return
    line, col = config.where(key)
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        name = missing[0] if missing else "?"
        yield Finding("error", "missing-required-field",
                      f'"{where or "top level"}" is missing the required "{name}" field (wrangler {choice.version} rejects it)',
                      str(config.path), line, col, env, {"field": name, "parent": where, "layer": "schema"})
        return
    yield Finding("error", f"schema-{error.validator}",
                  f'"{where}": {_message(error)} (wrangler {choice.version} config schema)', str(config.path), line, col, env,
                  {"layer": "schema"})


def _message(error: Any) -> str:
    if error.validator == "type":
        return f"expected {error.validator_value}, got {json.dumps(error.instance)[:60]}"
    if error.validator == "enum":
        return f"expected one of {', '.join(json.dumps(v) for v in error.validator_value)}, got {json.dumps(error.instance)[:60]}"
    if error.validator in ("anyOf", "oneOf"):
        return f"{json.dumps(error.instance)[:60]} matches none of the allowed shapes"
    return str(error.message)[:200]


def _dotted(key: Key) -> str:
    text = ""
    for part in key:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
