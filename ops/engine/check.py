"""The spec pipeline in one place: load → schema → model → cross-references.

Every problem in a file is collected before anything is reported; a broken
file never stops the others from being checked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from ops.engine.load import Loaded, load_yaml
from ops.engine.problems import Problem, json_path

__all__ = ["Checked", "check_file", "check_paths", "spec_files"]


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
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.glob("*.y*ml") if p.suffix in (".yaml", ".yml")))
        else:
            found.append(path)
    return found


def check_paths(paths: Iterable[Path]) -> list[Checked]:
    """Every file checked on its own, then names checked across them: a name belongs to one file."""
    results = [check_file(p) for p in spec_files(paths)]
    owners: dict[str, Checked] = {}
    named = [(r.data["name"], r) for r in results if isinstance(r.data, dict) and isinstance(r.data.get("name"), str)]
    for name, result in sorted(named, key=lambda item: (item[1].path.stem != item[0], str(item[1].path))):
        owner = owners.setdefault(name, result)
        if owner is not result:
            line, col = result.name_at
            result.problems.append(Problem(result.display, line, col, "$.name",
                f"{name!r} is already the name of {owner.display} (line {owner.name_at[0]}); "
                "names must be unique across remediations: rename one"))
            result.spec = None
    return results


def display_name(path: Path) -> str:
    """How a spec file is named in messages: relative to the working directory when it is below it."""
    try:
        return str(path.absolute().relative_to(Path.cwd().absolute()))
    except ValueError:
        return str(path)


def check_file(path: Path, display: str | None = None) -> Checked:
    loaded = load_yaml(path, display=display or display_name(path))
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


def _build(loaded: Loaded, problems: list[Problem]) -> Any:
    from pydantic import ValidationError

    from ops.engine.model import Spec

    try:
        return Spec.model_validate(loaded.data)
    except ValidationError as exc:
        for error in exc.errors():
            path = tuple(error["loc"])
            problems.append(loaded.problem(path, error["msg"], json_path(path)))
        return None
