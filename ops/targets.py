"""Targets: where a remediation acts (API base URL, account, Worker and its URL, its wrangler env).

They ship in the repo's ``targets.toml``; the sandbox is the default. Values
may come from the environment, using the variables wrangler itself reads.

A target names the wrangler environment its Worker is deployed as (``env =
"production"``, exposed as ``Target.wrangler_environment``): deploys pass ``--env``
(``Target.wrangler_args()``) and config edits go to ``[env.<name>]``. ``env`` given as a
table is instead the documented environment variables of the target. The wrangler
config is the one the target names (``wrangler_config``), else the one wrangler
itself would use: wrangler.json, wrangler.jsonc or wrangler.toml, from the targets
file's folder upward.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ops.errors import InputError

__all__ = ["Target", "find_targets_file", "load_target"]

TARGETS_FILE = "targets.toml"
_REQUIRED = ("api_base_url", "account_id", "token", "worker", "worker_url")
_PATHS = ("wrangler_config", "popular_keys")


@dataclass(frozen=True)
class Target:
    name: str
    api_base_url: str
    account_id: str
    worker: str
    worker_url: str
    token: str = field(repr=False)
    token_is_public: bool = False
    wrangler_config: Path | None = None
    popular_keys: Path | None = None
    env: dict[str, str] = field(default_factory=dict, repr=False)
    description: str = ""
    root: Path = Path(".")
    wrangler_environment: str = ""  # the [env.<name>] the Worker is deployed as; "" for the top level

    def wrangler_args(self) -> list[str]:
        """The arguments that point a wrangler command at the target's environment."""
        return ["--env", self.wrangler_environment] if self.wrangler_environment else []

    def template_values(self) -> dict[str, str]:
        """What ``{{ target.* }}`` can refer to in a spec."""
        return {"name": self.name, "worker": self.worker, "worker_url": self.worker_url,
                "account_id": self.account_id, "api_base_url": self.api_base_url,
                "wrangler_config": str(self.wrangler_config or ""), "wrangler_environment": self.wrangler_environment,
                "popular_keys": str(self.popular_keys or "")}

    def header(self) -> str:
        """One line that every plan and run prints first."""
        return (
            f"target {self.name}: worker {self.worker} at {self.worker_url} "
            f"(account {self.account_id}, API {self.api_base_url})"
        )

    def apply_env(self, environ: dict[str, str] | None = None) -> None:
        """Default the target's documented environment (e.g. the sandbox's warm secret); set values win."""
        target = os.environ if environ is None else environ
        for key, value in self.env.items():
            target.setdefault(key, value)

    def wrangler_env(self) -> dict[str, str]:
        """The environment that points the real wrangler CLI at this target."""
        return {
            "CLOUDFLARE_API_BASE_URL": self.api_base_url,
            "CLOUDFLARE_ACCOUNT_ID": self.account_id,
            "CLOUDFLARE_API_TOKEN": self.token,
        }


def find_targets_file(start: Path | None = None) -> Path:
    env = os.environ.get("OPS_TARGETS_FILE")
    if env:
        return Path(env)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / TARGETS_FILE).is_file():
            return folder / TARGETS_FILE
    return Path(__file__).resolve().parent.parent / TARGETS_FILE


def load_target(name: str | None = None, *, path: Path | None = None,
                environ: Mapping[str, str] | None = None) -> Target:
    file = path or find_targets_file()
    env = os.environ if environ is None else environ
    try:
        doc = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{file}: cannot read the targets file: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{file}: {exc}; fix the TOML syntax") from exc
    chosen = name or env.get("OPS_TARGET") or doc.get("default", "sandbox")
    targets = doc.get("targets", {})
    if chosen not in targets:
        known = ", ".join(sorted(targets)) or "none"
        raise InputError(f"{file}: no target named {chosen!r} (known: {known}); pick one with --target or OPS_TARGET")
    raw = targets[chosen]
    values = {key: _resolve(file, chosen, key, value, env) for key, value in raw.items()}
    missing = [key for key in _REQUIRED if not values.get(key)]
    if missing:
        raise InputError(f"{file}:{_line_of(file, chosen, missing[0])}: target {chosen!r} has no "
                         + "; no ".join(_how_to_set(key, raw.get(key)) for key in missing))
    root = Path(str(values["root"])) if values.get("root") else file.parent
    for key in _PATHS:
        if values.get(key) and not (root / str(values[key])).exists():
            raise InputError(f"{file}:{_line_of(file, chosen, key)}: target {chosen!r} names {key} = "
                             f"{values[key]!r}, which does not exist in {root}; fix the path or remove the line")
    config = values.get("wrangler_config") or _wrangler_lookup(root)
    popular = values.get("popular_keys")
    named_env = values.get("wrangler_env") or (values.get("env") if isinstance(values.get("env"), str) else "")
    return Target(
        name=chosen,
        api_base_url=str(values["api_base_url"]).rstrip("/"),
        account_id=str(values["account_id"]),
        worker=str(values["worker"]),
        worker_url=str(values["worker_url"]).rstrip("/"),
        token=str(values["token"]),
        token_is_public=bool(values.get("token_is_public", False)),
        wrangler_config=(root / str(config)) if config else None,
        popular_keys=(root / str(popular)) if popular else None,
        env={str(k): str(v) for k, v in dict(values.get("env") or {}).items()} if isinstance(values.get("env"), dict) else {},
        description=str(values.get("description", "")),
        root=root,
        wrangler_environment=str(named_env or ""),
    )


def _wrangler_lookup(root: Path) -> Path | None:
    from ops.errors import ConfigError
    from ops.gates.lookup import find_config

    try:
        return find_config(root)
    except ConfigError:
        return None


def _how_to_set(key: str, raw: Any) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("env"), str):
        return f"{key}: set the environment variable {raw['env']} (targets.toml reads it from there)"
    return f"{key}: set {key} = \"...\" in the target, or {key} = {{ env = \"VARIABLE\" }} to read it from the environment"


def _line_of(file: Path, target: str, key: str) -> int:
    """The line of ``key`` in ``[targets.<target>]`` (or of that table), for located messages."""
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError:
        return 1
    table = next((i for i, line in enumerate(lines) if line.strip() == f"[targets.{target}]"), None)
    if table is None:
        return 1
    for i in range(table + 1, len(lines)):
        if lines[i].lstrip().startswith("["):
            break
        if lines[i].split("=", 1)[0].strip() == key:
            return i + 1
    return table + 1


def _resolve(file: Path, target: str, key: str, value: Any, env: Mapping[str, str]) -> Any:
    if not isinstance(value, dict) or key == "env":
        return value
    var = value.get("env")
    if not isinstance(var, str):
        raise InputError(f"{file}: targets.{target}.{key}: an inline table needs env = \"VARIABLE\"")
    return env.get(var) or value.get("default", "")
