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

import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from typing import TYPE_CHECKING

from ops.documents.config import Config, load_config
from ops.errors import InputError
from ops.invoked import command

if TYPE_CHECKING:
    from ops.documents.worker_resources import WorkerResources
    from ops.egress import Egress

__all__ = ["SEVERITY_LEVELS", "HealthContract", "IncidentTemplate", "Target", "find_targets_file", "load_target"]

TARGETS_FILE = "targets.toml"
_REQUIRED = ("api_base_url", "account_id", "token", "worker", "worker_url")
_PATHS = ("wrangler_config", "popular_keys")
# Cloudflare's analytics arrive minutes late and each look is a GraphQL query (300 per 5 minutes per user):
# a run reads one window at most this often. A target whose analytics arrive at once (the sandbox) may look sooner.
ANALYTICS_INTERVAL = 15.0
MAX_BYTES = 1024 * 1024  # a targets file lists a few targets
HOST = r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})(?::\d{1,5})?|\[[0-9A-Fa-f:.]+\](?::\d{1,5})?"
SEVERITY_LEVELS = ("SEV1", "SEV2", "SEV3", "SEV4")


@dataclass(frozen=True)
class HealthContract:
    """What the Worker's own HTTP answer must be, declared per target (``health = {…}``).

    Optional: a Worker that knows nothing of this tool still has one URL that must
    answer (``/`` with 200 by default); its version and error rate come from
    Cloudflare (the deployments API and analytics), not from the Worker.
    """

    path: str = "/"
    status: int = 200
    json: dict[str, Any] = field(default_factory=dict)   # dotted JSON fields that must equal these values
    version_field: str | None = None                    # a JSON field holding the version id (CF_VERSION_METADATA.id)

    @classmethod
    def parse(cls, file: Path, target: str, raw: Any) -> HealthContract:
        if raw is None:
            return cls()
        where = f"{file}: targets.{target}.health"
        if not isinstance(raw, dict):
            raise InputError(f"{where}: expected a table like {{ path = \"/health\", status = 200 }}")
        unknown = sorted(set(raw) - {"path", "status", "json", "version_field"})
        if unknown:
            raise InputError(f"{where}: unknown key {unknown[0]!r} (known: path, status, json, version_field)")
        path, status = raw.get("path", "/"), raw.get("status", 200)
        if not isinstance(path, str) or not path.startswith("/"):
            raise InputError(f"{where}.path: a path starting with /, got {path!r}")
        if not isinstance(status, int) or not 100 <= status <= 599:
            raise InputError(f"{where}.status: an HTTP status, got {status!r}")
        fields, version = raw.get("json", {}), raw.get("version_field")
        if not isinstance(fields, dict):
            raise InputError(f"{where}.json: a table of dotted field = value")
        if version is not None and not isinstance(version, str):
            raise InputError(f"{where}.version_field: a dotted JSON field name")
        return cls(path, status, dict(fields), version)

    def expectations(self, version_id: Any = None) -> dict[str, Any]:
        wanted: dict[str, Any] = {"status": self.status, **{f"json.{k}": v for k, v in self.json.items()}}
        if self.version_field and version_id is not None:
            wanted[f"json.{self.version_field}"] = version_id
        return wanted


@dataclass(frozen=True)
class IncidentTemplate:
    """A team's incident report template (``[targets.X.incident]``): its severity names, the impact fields it asks
    for, its root-cause prompt and its standing action items. Empty fields keep the tool's own template."""

    severity_names: tuple[str, ...] = SEVERITY_LEVELS
    impact: tuple[str, ...] = ()       # fields the on-call fills in under Impact, e.g. "Manuscripts affected"
    root_cause: str = ""               # the prompt under Root cause
    action_items: tuple[str, ...] = ()  # the standing items, before the ones the evidence calls for

    KEYS = ("severity_names", "impact", "root_cause", "action_items")

    @classmethod
    def parse(cls, file: Path, loaded: Config, target: str, raw: Any, severity_names: tuple[str, ...]) -> IncidentTemplate:
        if raw is None:
            return cls(severity_names)
        where = f"{file}:{_line_of(loaded, target, 'incident')}: targets.{target}.incident"
        if not isinstance(raw, dict):
            raise InputError(f"{where}: write a table, e.g. [targets.{target}.incident] with impact = [\"Users affected\"]")
        unknown = sorted(set(raw) - set(cls.KEYS))
        if unknown:
            raise InputError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(cls.KEYS)})")
        lists = {key: raw.get(key, []) for key in ("impact", "action_items")}
        for key, value in lists.items():
            if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
                raise InputError(f"{where}.{key}: write a list of non-empty strings, e.g. {key} = [\"...\"]")
        prompt = raw.get("root_cause", "")
        if not isinstance(prompt, str):
            raise InputError(f"{where}.root_cause: write the prompt as a string")
        names = severity_names
        if "severity_names" in raw:
            if severity_names != SEVERITY_LEVELS and tuple(raw["severity_names"]) != severity_names:
                raise InputError(f"{where}.severity_names: the target also sets severity_names; keep one of them")
            names = _severity_names(file, loaded, target, raw["severity_names"], ("incident", "severity_names"))
        return cls(names, tuple(v.strip() for v in lists["impact"]), prompt.strip(),
                   tuple(v.strip() for v in lists["action_items"]))


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
    health: HealthContract = field(default_factory=HealthContract)
    notify: str | None = None  # where a webhook URL comes from (`env:NAME`, `file:PATH`): run start and end are posted there
    wrangler_environment: str = ""  # the [env.<name>] the Worker is deployed as; "" for the top level
    remediations: tuple[str, ...] | None = None  # the specs that apply to this Worker; None: all of them
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # remediation -> param -> default for this target
    source: Path | None = None  # the targets file it came from, for located messages
    severity_names: tuple[str, ...] = SEVERITY_LEVELS  # the incident template's names, most severe first
    allowed_hosts: tuple[str, ...] = ()  # hosts besides its own that may receive requests and secrets (ops.egress)
    secrets: tuple[str, ...] = ()  # the secrets the Worker needs beyond its config's secrets.required (their names)
    analytics_interval: float = ANALYTICS_INTERVAL  # seconds between two reads of one analytics window in a run
    incident: IncidentTemplate = field(default_factory=IncidentTemplate)  # its incident report template

    def resources(self) -> WorkerResources | None:
        """What the Worker's wrangler config names for the target's env; None without a config."""
        if self.wrangler_config is None or not self.wrangler_config.is_file():
            return None
        stat = self.wrangler_config.stat()
        return _resources(str(self.wrangler_config), self.wrangler_environment, stat.st_mtime_ns, stat.st_size)

    def secret_names(self) -> tuple[str, ...] | None:
        """The secrets the Worker needs: its config's secrets.required and the target's ``secrets``; None when
        neither says (a config without `secrets`, a target without the list)."""
        resources = self.resources()
        declared = resources.secrets if resources is not None else None
        if declared is None and not self.secrets:
            return None
        return tuple(dict.fromkeys((*(declared or ()), *self.secrets)))

    def egress(self) -> Egress:
        """Where this target's requests may go: its Worker, its API, and ``allowed_hosts``."""
        from ops.egress import Egress

        return Egress.of((self.worker_url, self.api_base_url), self.allowed_hosts,
                         f"{self.source or TARGETS_FILE} (targets.{self.name}.allowed_hosts)")

    @property
    def health_url(self) -> str:
        return self.worker_url + self.health.path

    def wrangler_args(self) -> list[str]:
        """The arguments that point a wrangler command at the target's environment."""
        return ["--env", self.wrangler_environment] if self.wrangler_environment else []

    def scope(self) -> dict[str, Any]:
        """What `{{ target.* }}` names in a spec."""
        return {"name": self.name, "worker": self.worker, "worker_url": self.worker_url, "account_id": self.account_id,
                "api_base_url": self.api_base_url, "wrangler_config": str(self.wrangler_config or ""),
                "wrangler_environment": self.wrangler_environment,
                "popular_keys": str(self.popular_keys or ""), "health_url": self.health_url,
                "health_status": self.health.status}

    def applies(self, remediation: str) -> bool:
        return self.remediations is None or remediation in self.remediations

    def check_applies(self, remediation: str) -> None:
        """Refuse a remediation that the target's `remediations` list leaves out (exit 2)."""
        if not self.applies(remediation):
            where = f"{self.source}:{_line_of(self.source, self.name, 'remediations')}" if self.source else "targets.toml"
            raise InputError(f"{where}: remediate.{remediation} does not apply to target {self.name!r} "
                             f"(its remediations: {', '.join(self.remediations or ()) or 'none'}); add it to that "
                             "list if this Worker has what it needs")

    def param_settings(self, remediation: str, param_types: Mapping[str, str], given: Mapping[str, Any],
                       spec_defaults: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        """The target's values for ``remediation`` that this run takes, and where each is written.

        A flag on the command line wins. A boolean flag cannot say "not given", so the
        target's value applies while the flag still holds the spec's default.
        """
        values: dict[str, Any] = {}
        origins: dict[str, str] = {}
        for key, value in (self.params.get(remediation) or {}).items():
            name = key.replace("-", "_")
            where = f"{self.source}:{_line_of(self.source, self.name, 'params', remediation, key)}" if self.source else "targets.toml"
            if name not in param_types:
                known = ", ".join(sorted(n.replace("_", "-") for n in param_types)) or "none"
                raise InputError(f"{where}: targets.{self.name}.params.{remediation}: remediate.{remediation} has no "
                                 f"param {key!r} (known: {known}); fix or remove the line")
            current = given.get(name)
            if current in (None, "") or (param_types[name] == "boolean" and current == bool(spec_defaults.get(name))):
                values[name] = value
                origins[name] = f"{where}: targets.{self.name}.params.{remediation}.{key}"
        return values, origins

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
        # A Worker's repository without a targets.toml of its own: the one `sandbox.up` wrote there.
        for candidate in (folder / TARGETS_FILE, folder / ".sandbox" / TARGETS_FILE):
            if candidate.is_file():
                return candidate
    return Path(__file__).resolve().parent.parent / TARGETS_FILE


def load_target(name: str | None = None, *, path: Path | None = None,
                environ: Mapping[str, str] | None = None) -> Target:
    file = path or find_targets_file()
    env = os.environ if environ is None else environ
    loaded = load_config(file, what="targets file", max_bytes=MAX_BYTES)
    doc = loaded.data
    chosen = name or env.get("OPS_TARGET") or doc.get("default", "sandbox")
    targets = doc.get("targets", {})
    sandbox_file = file.parent / ".sandbox" / TARGETS_FILE
    if chosen not in targets and path is None and sandbox_file.is_file() and sandbox_file != file:
        # `sandbox.up` in a Worker's repository writes its target (sandbox-own) there, beside the team's own file.
        sandboxed = load_config(sandbox_file, what="targets file", max_bytes=MAX_BYTES)
        if chosen in sandboxed.data.get("targets", {}):
            file, loaded, doc, targets = sandbox_file, sandboxed, sandboxed.data, sandboxed.data["targets"]
    if chosen not in targets:
        known = ", ".join(sorted(targets)) or "none"
        if chosen.startswith("sandbox") and not sandbox_file.is_file():
            raise InputError(f"{file}: no target named {chosen!r} (known: {known}); `{command('sandbox.up')}` writes the "
                             f"sandbox's targets into {sandbox_file}, or pick another with --target or OPS_TARGET")
        raise InputError(f"{file}: no target named {chosen!r} (known: {known}); pick one with --target or OPS_TARGET")
    raw = targets[chosen]
    values = {key: _resolve(file, chosen, key, value, env) for key, value in raw.items()}
    missing = [key for key in _REQUIRED if not values.get(key)]
    if missing:
        raise InputError(f"{file}:{_line_of(loaded, chosen, missing[0])}: target {chosen!r} has no "
                         + "; no ".join(_how_to_set(key, raw.get(key)) for key in missing) + _sandbox_hint(sandbox_file))
    _check_worker_name(str(values["worker"]), f"{file}:{_line_of(loaded, chosen, 'worker')}", chosen)
    root = Path(str(values["root"])) if values.get("root") else file.parent
    for key in _PATHS:
        if values.get(key) and not (root / str(values[key])).exists():
            made_by_sandbox = Path(str(values[key])).parts[:1] == (".sandbox",)
            fix = (f"`{command('sandbox.up')}` makes it (the sandbox works on its own copy of the example Workers)"
                   if made_by_sandbox else "fix the path or remove the line")
            raise InputError(f"{file}:{_line_of(loaded, chosen, key)}: target {chosen!r} names {key} = "
                             f"{values[key]!r}, which does not exist in {root}; {fix}")
    config = values.get("wrangler_config") or _wrangler_lookup(root)
    popular = values.get("popular_keys")
    incident = IncidentTemplate.parse(file, loaded, chosen, raw.get("incident"),
                                      _severity_names(file, loaded, chosen, raw.get("severity_names")))
    named_env = values.get("wrangler_env") or (values.get("env") if isinstance(values.get("env"), str) else "")
    target = Target(
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
        health=HealthContract.parse(file, chosen, values.get("health")),
        notify=_notify_source(file, chosen, values.get("notify")),
        wrangler_environment=str(named_env or ""),
        remediations=_remediations(file, loaded, chosen, raw.get("remediations")),
        params=_params(file, loaded, chosen, raw.get("params")),
        source=file,
        severity_names=incident.severity_names,
        allowed_hosts=_allowed_hosts(file, loaded, chosen, raw.get("allowed_hosts")),
        secrets=_secrets(file, loaded, chosen, raw.get("secrets")),
        analytics_interval=_analytics_interval(file, loaded, chosen, raw.get("analytics_interval")),
        incident=incident,
    )
    register_secrets(target)
    return target


def _secrets(file: Path, loaded: Config, target: str, raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(n, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n) for n in raw):
        raise InputError(f"{file}:{_line_of(loaded, target, 'secrets')}: targets.{target}.secrets: write a list of "
                         'the secret names the Worker needs, e.g. secrets = ["JWT_SECRET"]')
    return tuple(raw)


def _analytics_interval(file: Path, loaded: Config, target: str, raw: Any) -> float:
    if raw is None:
        return ANALYTICS_INTERVAL
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 1 <= raw <= 300:
        raise InputError(f"{file}:{_line_of(loaded, target, 'analytics_interval')}: targets.{target}.analytics_interval: "
                         f"write the seconds between two reads of one analytics window, from 1 to 300 (default "
                         f"{ANALYTICS_INTERVAL:g}), e.g. analytics_interval = 30")
    return float(raw)


@functools.lru_cache(maxsize=16)
def _resources(path: str, env: str, mtime_ns: int, size: int) -> WorkerResources:
    """A config read once per version of it (every probe and param of a diagnosis asks)."""
    from ops.documents.worker_resources import read_resources

    return read_resources(Path(path), env)


def _allowed_hosts(file: Path, loaded: Config, target: str, raw: Any) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(h, str) and re.fullmatch(HOST, h) for h in raw):
        raise InputError(f"{file}:{_line_of(loaded, target, 'allowed_hosts')}: targets.{target}.allowed_hosts: write a "
                         'list of host names, each optionally with :port, e.g. allowed_hosts = ["hooks.slack.com"]')
    return tuple(str(h).lower() for h in raw)


def register_secrets(target: Target) -> None:
    """Register the secrets a target puts in play: its ``env`` table's values, and the ``.dev.vars`` beside
    its wrangler config (what a local Worker reads as secrets). Every output masks them from then on."""
    values = list(target.env.values())
    if target.wrangler_config is not None:
        values += _dev_vars(target.wrangler_config.parent / ".dev.vars")
    values += _dev_vars(target.root / ".sandbox" / "live" / target.worker / ".dev.vars")  # what the sandbox serves
    _register(values)


def _register(values: list[str]) -> None:
    """Register each value that can be a secret (4 bytes to 5 KiB): shorter would mask ordinary words."""
    from ops import redact

    for value in values:
        if redact.MIN_SECRET_LEN <= len(value) and len(value.encode("utf-8", "surrogatepass")) <= redact.MAX_SECRET_LEN:
            redact.register(value)


def register_every_targets_secrets(path: Path | None = None) -> None:
    """Register the ``env`` values (and ``.dev.vars``) of every target in the targets file, for outputs that span
    runs on any of them (``inv incident.report``). A file that cannot be read registers nothing."""
    from ops.documents.problem import DocumentError

    file = path or find_targets_file()
    try:
        targets = load_config(file, what="targets file", max_bytes=MAX_BYTES).data.get("targets") or {}
    except (DocumentError, InputError, OSError):
        return
    for raw in targets.values() if isinstance(targets, dict) else ():
        env = raw.get("env") if isinstance(raw, dict) else None
        values = [str(v) for v in env.values() if isinstance(v, str)] if isinstance(env, dict) else []
        config = raw.get("wrangler_config") if isinstance(raw, dict) else None
        if isinstance(config, str):
            values += _dev_vars((file.parent / config).parent / ".dev.vars")
        worker = raw.get("worker") if isinstance(raw, dict) else None
        if isinstance(worker, str) and "/" not in worker and worker not in ("", ".", ".."):
            values += _dev_vars(file.parent / ".sandbox" / "live" / worker / ".dev.vars")
        _register(values)


def _dev_vars(path: Path) -> list[str]:
    """The values of a .dev.vars file (KEY=value lines, optionally quoted); none when it is absent or too big."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return []
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    values = []
    for line in text.splitlines():
        key, eq, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"`":
            value = value[1:-1]
        if eq and key.strip() and not key.lstrip().startswith("#") and not _plain_setting(value):
            values.append(value)
    return values


def _plain_setting(value: str) -> bool:
    """A flag or a small number (`DEBUG=true`, `PORT=8787`): a setting, not a secret, and masking it would mangle output."""
    return value.lower() in ("true", "false", "null", "none", "yes", "no", "on", "off") or (value.isdigit() and len(value) < 8)


def _severity_names(file: Path, loaded: Config, target: str, raw: Any,
                    key: tuple[str, ...] = ("severity_names",)) -> tuple[str, ...]:
    if raw is None:
        return SEVERITY_LEVELS
    if not (isinstance(raw, list) and len(raw) == len(SEVERITY_LEVELS) and all(isinstance(n, str) and n.strip() for n in raw)
            and len({n.strip().lower() for n in raw}) == len(raw)):
        raise InputError(f"{file}:{_line_of(loaded, target, *key)}: targets.{target}.{'.'.join(key)}: "
                         'write four distinct names, most severe first, e.g. ["Critical", "High", "Medium", "Low"]')
    return tuple(n.strip() for n in raw)


def _remediations(file: Path, loaded: Config, target: str, raw: Any) -> tuple[str, ...] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(name, str) and name for name in raw):
        raise InputError(f"{file}:{_line_of(loaded, target, 'remediations')}: targets.{target}.remediations: "
                         'write a list of remediation names, e.g. remediations = ["rollback", "secret-rotation"]')
    return tuple(raw)


def _params(file: Path, loaded: Config, target: str, raw: Any) -> dict[str, dict[str, Any]]:
    if raw is None:
        return {}
    tables = raw if isinstance(raw, dict) else None
    if tables is None or not all(isinstance(table, dict) for table in tables.values()):
        raise InputError(f"{file}:{_line_of(loaded, target, 'params')}: targets.{target}.params: write one table per "
                         f"remediation, e.g. [targets.{target}.params.queue-redeploy] with queue = \"jobs\"")
    for table in tables.values():
        for key, value in table.items():
            if not isinstance(value, (str, int, float, bool)):
                raise InputError(f"{file}:{_line_of(loaded, target, 'params')}: targets.{target}.params: {key} must be "
                                 "a string, number or boolean, as its flag would take")
    return {str(name): dict(table) for name, table in tables.items()}


def _notify_source(file: Path, target: str, raw: Any) -> str | None:
    if raw is None:
        return None
    source = raw.get("webhook") if isinstance(raw, dict) else None
    if not isinstance(source, str) or not source.startswith(("env:", "file:")):
        raise InputError(f"{file}: targets.{target}.notify: write notify = {{ webhook = \"env:NAME\" }} "
                         "(or file:PATH); the URL is a secret and never sits in this file")
    return source


def _wrangler_lookup(root: Path) -> Path | None:
    from ops.errors import ConfigError
    from ops.documents.wrangler_config import find_config

    try:
        return find_config(root)
    except ConfigError:
        return None


def _sandbox_hint(sandbox_file: Path) -> str:
    """Where a sandbox started in this repository is, for a production target that cannot be used yet."""
    if not sandbox_file.is_file():
        return ""
    names = sorted(load_config(sandbox_file, what="targets file", max_bytes=MAX_BYTES).data.get("targets", {}))
    return (f"; or rehearse on the sandbox started here: --target {names[0]} (from {sandbox_file})" if names else "")


def _how_to_set(key: str, raw: Any) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("env"), str):
        return f"{key}: set the environment variable {raw['env']} (targets.toml reads it from there)"
    return f"{key}: set {key} = \"...\" in the target, or {key} = {{ env = \"VARIABLE\" }} to read it from the environment"


WORKER_NAME = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def _check_worker_name(name: str, where: str, target: str) -> None:
    """Cloudflare's rule for a Worker's name (workers-sdk's checkWorkerNameValidity, the workers.dev label)."""
    if WORKER_NAME.fullmatch(name):
        return
    why = ("is longer than 63 characters" if len(name) > 63 else "starts or ends with a dash"
           if name.strip("-") != name else "may hold only lowercase letters, digits and dashes")
    raise InputError(f"{where}: target {target!r}: worker = {name!r} is not a Worker name: it {why}; "
                     "write the Worker's name as Cloudflare shows it (the `name` in its wrangler config)")


def _line_of(source: Path | Config, target: str, *key: str) -> int:
    """The line of ``targets.<target>.<key…>`` (or of its nearest written parent), for located messages."""
    if isinstance(source, Path):
        try:
            loaded = _located(str(source), source.stat().st_mtime_ns)
        except OSError:
            return 1
        if loaded is None:
            return 1
        source = loaded
    return source.where(("targets", target, *key))[0]


@functools.lru_cache(maxsize=4)
def _located(path: str, mtime_ns: int) -> Config | None:
    """A targets file parsed with positions, once per version of it (every params line of a run asks)."""
    from ops.documents.problem import DocumentError

    try:
        return load_config(Path(path), what="targets file", max_bytes=MAX_BYTES)
    except DocumentError:
        return None


def _resolve(file: Path, target: str, key: str, value: Any, env: Mapping[str, str]) -> Any:
    if not isinstance(value, dict) or key in ("env", "health", "notify", "params", "incident"):
        return value
    var = value.get("env")
    if not isinstance(var, str):
        raise InputError(f"{file}: targets.{target}.{key}: an inline table needs env = \"VARIABLE\"")
    return env.get(var) or value.get("default", "")
