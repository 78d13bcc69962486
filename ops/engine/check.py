"""The spec pipeline in one place: find → read once → load → schema → model → cross-references → one name per file.

``compile_spec(path, raw)`` turns the bytes of one file into a ``Checked``; the
catalog (which digests the same bytes for its cache) and `specs.check` both call
it, and both find files with ``spec_files`` and settle names with ``name_owners``.
Every problem in a file is collected before anything is reported; a broken file
never stops the others from being checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from ops.engine.problems import Problem, json_path

__all__ = ["Checked", "check_file", "check_paths", "compile_spec", "display_name", "name_owners", "name_taken",
           "spec_files"]

SUFFIXES = (".yaml", ".yml")


@dataclass
class Checked:
    path: Path
    problems: list[Problem] = field(default_factory=list)
    data: Any = None
    spec: Any = None  # ops.engine.model.Spec when valid
    display: str = ""
    name_at: tuple[int, int] = (1, 1)

    @property
    def ok(self) -> bool:
        return not self.problems and self.spec is not None


def spec_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, and the ``*.yaml``/``*.yml`` files of the folders named, each folder's sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.glob("*.y*ml") if p.suffix in SUFFIXES))
        else:
            found.append(path)
    return found


def name_owners(claims: Sequence[tuple[str, Path]]) -> list[int | None]:
    """For each (name, file) claim, the index of the claim that keeps the name when it is another one.

    The file named after a spec (``rollback.yaml`` for ``rollback``) keeps its name, then the first file in
    path order; the others are refused, so no file can take over a name by sorting first.
    """
    owners: dict[str, int] = {}
    result: list[int | None] = [None] * len(claims)
    for index in sorted(range(len(claims)), key=lambda i: (claims[i][1].stem != claims[i][0], str(claims[i][1]))):
        owner = owners.setdefault(claims[index][0], index)
        if owner != index:
            result[index] = owner
    return result


def name_taken(name: str, file: str, at: tuple[int, int], owner: str, owner_line: int) -> Problem:
    return Problem(file, at[0], at[1], "$.name", f"{name!r} is already the name of {owner} (line {owner_line}), "
                                                "which keeps it; names must be unique across remediations: rename this one")


def check_paths(paths: Iterable[Path]) -> list[Checked]:
    """Every file checked on its own, then names checked across them: a name belongs to one file."""
    results = [check_file(p) for p in spec_files(paths)]
    named = [r for r in results if isinstance(r.data, dict) and isinstance(r.data.get("name"), str)]
    for result, owner in zip(named, name_owners([(r.data["name"], r.path) for r in named])):
        if owner is not None:
            kept = named[owner]
            result.problems.append(name_taken(result.data["name"], result.display, result.name_at, kept.display,
                                              kept.name_at[0]))
            result.spec = None
    return results


def display_name(path: Path) -> str:
    """How a spec file is named in messages: relative to the working directory when it is below it."""
    try:
        return str(path.absolute().relative_to(Path.cwd().absolute()))
    except ValueError:
        return str(path)


def check_file(path: Path, display: str | None = None) -> Checked:
    """Read the file once and compile it."""
    from ops.documents.problem import DocumentError
    from ops.engine.load import read_spec

    shown = display or display_name(path)
    try:
        raw = read_spec(path, display=shown)
    except DocumentError as exc:
        return Checked(path, [exc.problem], display=shown)
    return compile_spec(path, raw, shown)


def compile_spec(path: Path, raw: bytes, display: str | None = None) -> Checked:
    """One spec file's bytes, compiled: its data and Spec, or every problem found in it."""
    from ops.engine.load import parse_spec

    loaded = parse_spec(raw, display or display_name(path))
    checked = Checked(path, list(loaded.problems), loaded.data, display=loaded.file, name_at=loaded.where(("name",)))
    if loaded.problems:
        return checked
    if not isinstance(loaded.data, dict):
        checked.problems.append(Problem(loaded.file, 1, 1, "$", "a spec is a YAML mapping with name, summary, steps, verify…"))
        return checked
    from ops.engine.schema import validator
    from ops.engine.validate import schema_problems

    checked.problems = schema_problems(loaded, validator())
    if checked.problems:
        return checked
    spec = _build(loaded, checked.problems)
    if spec is None:
        return checked
    from ops.engine.xref import xref_problems

    checked.problems = xref_problems(spec, loaded)
    checked.spec = None if checked.problems else spec
    return checked


def _build(loaded: Any, problems: list[Problem]) -> Any:
    from pydantic import ValidationError

    from ops.engine.model import Spec

    try:
        return Spec.model_validate(loaded.data)
    except ValidationError as exc:
        for error in exc.errors():
            path = tuple(error["loc"])
            problems.append(loaded.problem(path, error["msg"], json_path(path)))
        return None
