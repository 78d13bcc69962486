"""The action registry: built-ins by plain import, third parties through the cfw_remedy.actions entry points."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator

import pytest

from ops import actions
from ops.engine.check import check_file
from ops.errors import InputError
from testing.workspace import REPO

ACTIONS = REPO / "ops" / "actions"

PLUGIN = '''
from pydantic import Field

from ops.actions.base import Action, Args, Context, Outputs
from ops.documents.shape import STRING, record


class PingArgs(Args):
    host: str = Field(description="Who to ping.")


class PingAction(Action):
    name = "acme_ping"
    Args = PingArgs
    summary = "Ping a host (a third party's action type)."
    outputs = record(pong=STRING)

    def describe(self, args: PingArgs) -> str:
        return f"ping {args.host}"

    def run(self, args: PingArgs, ctx: Context) -> Outputs:
        return {"pong": args.host}
'''

SPEC = """name: acme
summary: Uses a third party's action type.
symptoms: [nothing answers]
steps:
  - name: ping
    action: acme_ping
    effect: read
    with: {host: "{{ target.worker_url }}"}
verify:
  checks:
    - name: pong
      action: acme_ping
      with: {host: example.com}
      expect: {pong: example.com}
"""


def _defines_an_action(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return any(isinstance(node, ast.ClassDef) and any(getattr(b, "id", None) == "Action" for b in node.bases)
               for node in tree.body)


def test_every_action_module_is_imported_plainly_by_the_builtin_list() -> None:
    from ops.actions.builtin import BUILTIN

    tree = ast.parse((ACTIONS / "builtin.py").read_text(encoding="utf-8"))
    imported = {node.module.rsplit(".", 1)[-1] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    defining = {path.stem for path in ACTIONS.glob("*.py") if _defines_an_action(path)}
    assert defining and defining <= imported, f"not in ops/actions/builtin.py: {sorted(defining - imported)}"
    registry = (ACTIONS / "__init__.py").read_text(encoding="utf-8")
    assert "import_module" not in registry and "importlib import" not in registry
    assert {name: load().name for name, load in BUILTIN.items()} == {name: name for name in BUILTIN}
    assert {"cache_warm", "edit", "http"} <= set(actions.known_names())


def test_asking_for_one_type_imports_only_its_module() -> None:
    import subprocess
    import sys

    probe = ("import sys; from ops import actions; actions.get('noop'); "
             "print(sorted(m for m in sys.modules if m.startswith('ops.actions.')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.split() == ["['ops.actions.base',", "'ops.actions.builtin',", "'ops.actions.noop']"]


@pytest.fixture
def installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A distribution on sys.path as pip leaves one: the package, and a dist-info with entry_points.txt."""
    (tmp_path / "acme_ops").mkdir()
    (tmp_path / "acme_ops" / "__init__.py").write_text("")
    (tmp_path / "acme_ops" / "ping.py").write_text(PLUGIN)
    info = tmp_path / "acme_ops-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-ops\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{actions.ENTRY_POINT_GROUP}]\nacme_ping = acme_ops.ping:PingAction\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    _forget()
    yield info
    _forget()


def _forget() -> None:
    import sys

    from ops.engine.schema import validator

    for module in [m for m in sys.modules if m.split(".")[0] == "acme_ops"]:
        del sys.modules[module]
    actions._plugins.cache_clear()
    actions.get.cache_clear()
    validator.cache_clear()


def test_an_installed_entry_point_adds_an_action_type_specs_can_use(installed: Path, tmp_path: Path) -> None:
    assert "acme_ping" in actions.known_names()
    ping = actions.get("acme_ping")
    assert ping is not None and ping.describe(ping.Args(host="h")) == "ping h"
    spec = tmp_path / "remediations" / "acme.yaml"
    spec.parent.mkdir()
    spec.write_text(SPEC)
    checked = check_file(spec)
    assert checked.ok, [str(p) for p in checked.problems]
    spec.write_text(SPEC.replace("{host: example.com}", "{hots: example.com}"))
    assert any("hots" in str(p) for p in check_file(spec).problems)


@pytest.mark.parametrize("line, message", [
    ("acme_ping = acme_ops.missing:PingAction", "package acme-ops: the action type 'acme_ping' (acme_ops.missing:PingAction) "
                                                "failed to load: ModuleNotFoundError: No module named 'acme_ops.missing'; "
                                                "fix or uninstall the package"),
    ("http = acme_ops.ping:PingAction", "package acme-ops: the entry point 'http' in cfw_remedy.actions takes the name of a "
                                        "built-in action type; rename it"),
    ("acme_pong = acme_ops.ping:PingAction", "package acme-ops: the entry point 'acme_pong' loads an action named "
                                             "'acme_ping'; give both the same name"),
    ("acme_ping = acme_ops.ping:PLUGIN_NAME", "package acme-ops: acme_ops.ping:PLUGIN_NAME is not an ops.actions.base.Action subclass"),
])
def test_a_broken_entry_point_is_an_error_naming_the_package(installed: Path, line: str, message: str) -> None:
    (installed.parent / "acme_ops" / "ping.py").write_text(PLUGIN + "\nPLUGIN_NAME = 'acme'\n")
    (installed / "entry_points.txt").write_text(f"[{actions.ENTRY_POINT_GROUP}]\n{line}\n")
    with pytest.raises(InputError) as caught:
        name = line.split(" = ")[0]
        actions.known_names() if name == "http" else actions.get(name)
    assert str(caught.value) == message


def test_the_config_reading_actions_import_no_http_client_until_they_send() -> None:
    import subprocess
    import sys

    modules = ["cache_warm", "provider_order", "binding_check", "edit", "noop"]
    probe = (f"import sys; from ops import actions; [actions.get(n) for n in {modules!r}]; "
             "print(sorted(m for m in ('httpx', 'ops.http', 'ops.cloudflare._client') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip() == "[]"
