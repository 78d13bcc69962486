"""`edit`: set values in a TOML, YAML, JSON or JSONC config in place, keeping comments and layout.

TOML goes through tomlkit and YAML through ruamel.yaml's round-trip mode, so
only the edited values change. JSON and JSONC (wrangler.json, wrangler.jsonc)
have no well-kept round-trip library in Python, so ``ops.documents.jsonc``'s
position-keeping parser finds each value's span and only that text is replaced; a JSON config can
have existing values changed, not new keys added. The previous values are the
outputs, and the undo this action supplies writes them back.
"""

from __future__ import annotations

import io
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs, UndoCall
from ops.documents.shape import BOOLEAN, STRING, mapping, record
from ops.documents.problem import DocumentError, Problem
from ops.errors import InputError

if TYPE_CHECKING:
    from ops.documents.config import Config
    from ops.documents.source import Source

ABSENT = {"$absent": True}
_YAML_NODES = 1_000_000  # a config to edit, not a spec: only the byte limit should bind
EDITABLE = (".toml", ".yaml", ".yml", ".json", ".jsonc")


class EditArgs(Args):
    file: str = Field(description="The config file, relative to the repo root (.toml, .yaml, .yml, .json or .jsonc).")
    set: dict[str, Any] = Field(min_length=1, description="Dotted paths and their new values, e.g. `vars.PROVIDER_ORDER`.")
    env: str = Field("", description="A wrangler environment: the paths are set under `env.<name>.` (vars are not "
                                     "inherited by an env, so an env's Worker reads them there).")


class EditAction(Action):
    name = "edit"
    Args = EditArgs
    summary = "Round-trip edit of a TOML, YAML, JSON or JSONC config that keeps comments."
    outputs = record(file=STRING, previous=mapping(), changed=BOOLEAN)

    def effect(self, args: EditArgs) -> str:
        return "write"

    def safe_to_retry(self, args: EditArgs) -> bool:
        return True  # setting a value twice is the same as once

    def supplies_undo(self, args: EditArgs) -> bool:
        return True

    def describe(self, args: EditArgs) -> str:
        changes = ", ".join(f"{k} = {v!r}" for k, v in args.set.items())
        return f"edit {args.file}: {changes}"

    def default_undo(self, args: EditArgs, outputs: Outputs) -> UndoCall:
        return UndoCall("edit", {"file": args.file, "set": outputs["previous"]}, f"restore {', '.join(outputs['previous'])} in {args.file}")

    def run(self, args: EditArgs, ctx: Context) -> Outputs:
        path = _resolve(ctx.target.root, args.file, ctx.target.wrangler_config)
        doc, dump = _load(path)
        prefix = _env_prefix(path, args.env) if args.env else ""
        wanted = {prefix + key: value for key, value in args.set.items()}
        previous = {key: _set(doc, key, value, path) for key, value in wanted.items()}
        changed = any(previous[k] != v for k, v in wanted.items())
        if changed:
            _write_atomically(path, dump(doc))
        return {"file": str(path), "previous": previous, "changed": changed}


def _env_prefix(path: Path, env: str) -> str:
    """Where wrangler reads ``env``'s fields: ``env.<name>.``, or the top level when the config defines no
    environments at all (wrangler then deploys the top level as ``<name>-<env>``); an env the config does
    not define, when it defines others, is a located error."""
    if path.suffix not in (".toml", ".json", ".jsonc"):
        raise InputError(f"edit: {path}: env applies to a wrangler config (.toml, .json or .jsonc)")
    from ops.documents.wrangler_config import effective, load_config

    resolved = effective(load_config(path), env)
    return "".join(f"{part}." for part in resolved.prefix)


def _resolve(root: Path, file: str, config: Path | None = None) -> Path:
    path = (root / file).resolve()
    if not path.is_relative_to(root.resolve()) and not (config and path == config.resolve()):
        raise InputError(f"edit: {file!r} is neither inside the repository nor the target's wrangler config")
    if path.suffix not in EDITABLE:
        raise InputError(f"edit: {file}: only {', '.join(EDITABLE)} configs can be edited in place")
    return path


def _load(path: Path) -> tuple[Any, Any]:
    """The round-trip document and its renderer; the text is read and checked by ``ops.documents`` first,
    so a bad file gets the same located error as everywhere else."""
    from ops.documents.config import MAX_BYTES, parse_config
    from ops.documents.source import read_text

    source = read_text(path, max_bytes=MAX_BYTES, what="config", root=Path(path.anchor))
    if path.suffix in (".json", ".jsonc"):
        return _JsonDoc(parse_config(path, source, what="config")), _JsonDoc.render
    if path.suffix == ".toml":
        import tomlkit

        parse_config(path, source, what="config")
        return tomlkit.parse(source.text), tomlkit.dumps
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    try:
        doc = yaml.load(source.text)
    except YAMLError as exc:
        raise _located_yaml_error(source, exc) from None

    def dump(data: Any) -> str:
        out = io.StringIO()
        yaml.dump(data, out)
        return out.getvalue()

    return doc, dump


def _located_yaml_error(source: Source, exc: Exception) -> DocumentError:
    """The error ``ops.documents.yaml`` gives for the same text (custom tags aside, it reads what round-trip reads)."""
    from ops.documents.yaml import Budget, parse_yaml

    try:
        parse_yaml(source, Budget(len(source.text.encode()), _YAML_NODES, 10_000))
    except DocumentError as located:
        return located
    mark = getattr(exc, "problem_mark", None)
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
    return DocumentError(Problem(source.name, line, col, "$", f"YAML syntax: {exc}; fix the YAML before editing"))


class _JsonDoc:
    """A JSON(C) text with the span of every value; edits replace spans, so comments and layout stay."""

    def __init__(self, config: Config) -> None:
        self.text, self.data, self.spans = config.text, config.data, config.spans
        self.edits: dict[tuple[str | int, ...], Any] = {}

    def set(self, dotted: str, value: Any, path: Path) -> Any:
        key: tuple[str | int, ...] = ()
        node = self.data
        for part in dotted.split("."):
            if isinstance(node, list) and part.isdigit() and int(part) < len(node):
                key, node = (*key, int(part)), node[int(part)]
            elif isinstance(node, dict) and part in node:
                key, node = (*key, part), node[part]
            else:
                raise InputError(f"edit: {path}: {dotted!r} is not in the config; a JSON config can have values "
                                 "changed in place, not keys added: add it by hand")
        if value == ABSENT:
            raise InputError(f"edit: {path}: cannot remove {dotted!r} from a JSON config in place")
        self.edits[key] = value
        return node

    def render(self) -> str:
        text, end_of_last = self.text, len(self.text) + 1
        for key in sorted(self.edits, key=lambda k: self.spans[k][0], reverse=True):
            start, end = self.spans[key]
            if end > end_of_last:
                raise InputError(f"edit: two of the values set overlap ({'.'.join(map(str, key))})")
            text, end_of_last = text[:start] + json.dumps(self.edits[key], ensure_ascii=False) + text[end:], start
        return text


def _set(doc: Any, dotted: str, value: Any, path: Path) -> Any:
    if isinstance(doc, _JsonDoc):
        return doc.set(dotted, value, path)
    *parents, last = dotted.split(".")
    node = doc
    for part in parents:
        node = _child(node, part, dotted, path)
    key: Any = int(last) if isinstance(node, list) and last.isdigit() else last
    previous = _plain(node[key]) if _has(node, key) else ABSENT
    if value == ABSENT:
        if _has(node, key):
            del node[key]
    else:
        node[key] = value
    return previous


def _child(node: Any, part: str, dotted: str, path: Path) -> Any:
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    if isinstance(node, dict):
        if part not in node:
            node[part] = {}
        return node[part]
    raise InputError(f"edit: {path}: cannot reach {dotted!r} (at {part!r})")


def _has(node: Any, key: Any) -> bool:
    if isinstance(node, list):
        return isinstance(key, int) and key < len(node)
    return key in node


def _plain(value: Any) -> Any:
    unwrap = getattr(value, "unwrap", None)
    return unwrap() if callable(unwrap) else value


def _write_atomically(path: Path, text: str) -> None:
    """Replace the file in one rename, keeping its mode and (where allowed) its owner and group."""
    before = path.stat()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mkstemp makes it 0600
    try:
        os.fchmod(fd, stat.S_IMODE(before.st_mode))
        if (before.st_uid, before.st_gid) != (os.geteuid(), os.getegid()):
            try:
                os.fchown(fd, before.st_uid, before.st_gid)
            except PermissionError:
                pass  # only root may give a file away; the mode is kept all the same
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
