"""The sandbox's lifecycle: up, status, break, reset, down.

Parts run as detached processes with pid files and logs under the sandbox's
home (``.sandbox/``; ``ops.sandbox.processes``): the control-plane emulator (which also
runs a recording proxy in front of each Worker: the targets' ``worker_url``), the fake
providers, and each example Worker on real workerd through its own `wrangler
dev`, supervised by a follower. The Workers are deployed to the emulator with
the real `wrangler deploy`, from the sandbox's own copies under
``.sandbox/workers/`` (remediations edit those, never the repo), and follow the
emulator's live version from then on. Where each part is: ``ops.sandbox.layout``;
on which ports: ``ops.sandbox.ports``.

Run in a Worker's repository instead (``Sandbox.default``), the sandbox serves that
repository's Worker (``ops.sandbox.own``): the same parts and the same machinery, with
its home in the repository's ``.sandbox/`` and no fake providers.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

import httpx

from ops.errors import InputError, OpsError, SandboxError
from ops.invoked import command
from ops.sandbox import breaks, loopback, pristine, snapshot
from ops.sandbox.constants import ACCOUNT_ID, PROVIDERS, WORKERS, WorkerSpec
from ops.sandbox.d1_seed import seed as seed_d1
from ops.sandbox.layout import Layout, Say, answers, get_json, with_client
from ops.sandbox.live import EMULATOR_URL
from ops.sandbox.ports import BASE_VARIABLE, Ports
from ops.sandbox.processes import Processes
from ops.sandbox.targets_file import write_targets

__all__ = ["Sandbox"]
T = TypeVar("T")
REPO = Path(__file__).resolve().parents[2]
WORKERS_VARIABLE = "OPS_SANDBOX_WORKERS"  # which example Workers this checkout's sandbox serves
SERVED = "served"  # in the home: the keys of the Workers a running sandbox serves, comma-separated
# Not copied into the sandbox's copy of a team's Worker (node_modules is linked instead).
NOT_COPIED = (".git", ".sandbox", ".journal", ".wrangler", ".dev.vars*", ".venv", "node_modules", "__pycache__")


class PartFailed(Exception):
    """One part of ``up`` failed: which, and why."""

    def __init__(self, part: str, reason: BaseException) -> None:
        super().__init__(part)
        self.part, self.reason = part, reason


@dataclass
class Sandbox(Layout):
    _started: list[str] = field(default_factory=list, init=False, repr=False, compare=False)

    @classmethod
    def default(cls, say: Say | None = None, *, env: str | None = None, target: str | None = None) -> Sandbox:
        """This checkout's sandbox (the example Workers); run in a Worker's repository, that repository's Worker.

        ``env`` and ``target`` choose the wrangler environment of a repository's Worker (ops.sandbox.own).
        """
        from ops.documents.wrangler_config import find_config
        from ops.sandbox.own import is_checkout, own_worker, remembered

        say = say or (lambda _: None)
        if is_checkout(Path.cwd(), REPO):
            home = Path(os.environ.get("OPS_SANDBOX_HOME") or REPO / ".sandbox")
            return cls(REPO, home, Ports.for_home(home), say, workers=_chosen_examples(home))
        try:
            config = find_config(Path.cwd())
        except InputError:
            raise InputError(f"{Path.cwd()}: no wrangler.json, wrangler.jsonc or wrangler.toml here or above; run the "
                             "sandbox in your Worker's repository (or in a checkout of cfw-remedy for its examples)") from None
        home = Path(os.environ.get("OPS_SANDBOX_HOME") or config.parent / ".sandbox")
        env, target = remembered(home, env, target)
        return cls(REPO, home, Ports.for_home(home), say, secrets={},
                   workers=(own_worker(Path.cwd(), env, target=target),))

    @property
    def processes(self) -> Processes:
        return Processes(self.home)

    def targets_file(self) -> Path:
        """A targets.toml with one target per sandbox Worker (for OPS_TARGETS_FILE, or found beside the repo's)."""
        return write_targets(self)

    # --- lifecycle --------------------------------------------------------------------------

    def up(self, *, stop_if_unhealthy: bool = False) -> dict[str, Any]:
        """Start every part that is not running; when one fails, stop what this call started and name the part.

        ``stop_if_unhealthy`` (`sandbox.up`): an up that ends with a Worker unhealthy failed too, and stops what it
        started (the status says which, and why the Worker is unhealthy); tests that start a Worker broken on
        purpose keep it running."""
        self._started = []
        try:
            self._up()
        except (PartFailed, KeyboardInterrupt) as exc:
            started = list(self._started)
            self.processes.stop(*started)
            if isinstance(exc, KeyboardInterrupt):
                raise
            stopped = f"; stopped what it had started ({', '.join(started)})" if started else ""
            raise SandboxError(f"sandbox.up failed: the {exc.part}: {_reason(exc.reason)}{stopped}") from None
        status = self.status()
        if stop_if_unhealthy and not status["healthy"] and self._started:  # nothing of its own left running; logs stay
            self.processes.stop(*self._started)
            status["stopped"] = list(self._started)
        for spec in self.served_workers:  # after every request of its own: what the next reset compares with
            pristine.record(self, spec)
        return status

    def _up(self) -> None:
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        (self.home / SERVED).write_text(",".join(w.key for w in self.workers), encoding="utf-8")
        self._part("ports", self._hold_ports)
        self._part("npm parts (wrangler, workerd)", self._ensure_npm)
        self._part("copies of the Workers", self._copy_examples)
        if self.providers():
            self._part("providers", self._start, "providers", [
                sys.executable, "-m", "ops.sandbox.providers",
                "--ports", ",".join(str(p) for p in self.ports.providers().values())],
                lambda: all(answers(f"{self.provider_url(n)}/__provider/config") for n in self.ports.providers()))
            self._part("providers' API keys", self._give_provider_keys)
        self._write_overrides()
        fresh = not (self.home / "emulator" / "state.json").exists()
        self._part("emulator", self._start, "emulator", self._emulator_argv(),
                   lambda: answers(f"{self.emulator_url}/__emulator/health"))
        served = self.served_workers
        with ThreadPoolExecutor(max(1, len(served))) as pool:  # a wrangler deploy, then a wrangler dev, per Worker, side by side
            list(pool.map(lambda w: self._part(f"deploy of {w.script}", self._deploy_first, w),
                          [w for w in served if not self.live_version(w)]))
            list(pool.map(lambda w: self._part(f"D1 seed of {w.script}", seed_d1, self, w), served))
            if fresh:  # deployed and seeded, nothing served yet: what a reset starts from (ops.sandbox.snapshot)
                self._part("snapshot", snapshot.take, self.home, snapshot.fingerprint(self))
            list(pool.map(lambda w: self._part(f"worker-{w.key} ({w.script} on wrangler dev)", self._serve, w), served))
        self.targets_file()  # for sandboxes on other ports or homes: OPS_TARGETS_FILE=<home>/targets.toml

    def down(self) -> None:
        """Stop every part this home started, whichever Workers it served."""
        self.processes.stop(*self.processes.known())
        (self.home / SERVED).unlink(missing_ok=True)

    def providers(self) -> list[str]:
        """The fake upstreams, which only the example Workers call."""
        return list(self.ports.providers()) if any(w.source is None for w in self.workers) else []

    def reset(self) -> dict[str, Any]:
        """Down, then up from the state a fresh up reached once deployed (ops.sandbox.snapshot), else from nothing.

        A Worker that nothing has reached since the last up keeps running (ops.sandbox.pristine)."""
        mark = snapshot.fingerprint(self)
        kept = [w for w in self.served_workers if pristine.untouched(self, w)] if snapshot.holds(self.home, mark) else []
        self.processes.stop(*(p for p in self.processes.known() if p not in {f"worker-{w.key}" for w in kept}))
        pristine.forget(self.home)
        for sub in ("emulator", "workers"):
            _rmtree(self.home / sub)
        for sub, keep in (("live", {w.script for w in kept}), ("persist", {w.key for w in kept})):
            for path in (self.home / sub).glob("*"):
                if path.name in keep:
                    continue
                if path.is_dir():
                    _rmtree(path)
                else:
                    path.unlink(missing_ok=True)
        if kept:
            self.say(f"kept {', '.join(w.script for w in kept)}: nothing reached it since the last up")
        snapshot.restore(self.home, mark)
        return self.up()

    def status(self) -> dict[str, Any]:
        workers = {spec.key: self._worker_status(spec) for spec in self.served_workers}
        parts: dict[str, Any] = {
            "emulator": {"url": self.api_base_url, "healthy": answers(f"{self.emulator_url}/__emulator/health"),
                         "log": str(self.log("emulator"))},
            "providers": {n: {"url": self.provider_url(n), "healthy": answers(f"{self.provider_url(n)}/health"),
                              "config": get_json(f"{self.provider_url(n)}/__provider/config")} for n in self.providers()},
            "worker": workers[self.first.key],
            "workers": workers,
        }
        parts["providers_healthy"] = all(p["healthy"] for p in parts["providers"].values())
        healthy = parts["emulator"]["healthy"] and parts["providers_healthy"] and all(w["healthy"] for w in workers.values())
        return {"healthy": bool(healthy), "account_id": ACCOUNT_ID, "token": self.token, "api_base_url": self.api_base_url,
                "worker_url": self.url_of(self.first), "worker": self.first.script, "parts": parts,
                "port_base": self.ports.base, "targets_file": str(self.home / "targets.toml"),
                "env": {"CLOUDFLARE_API_BASE_URL": self.api_base_url, "CLOUDFLARE_ACCOUNT_ID": ACCOUNT_ID,
                        "CLOUDFLARE_API_TOKEN": self.token}}

    # --- break scenarios ----------------------------------------------------------------------

    def break_(self, scenario: str, worker: str | None = None) -> str:
        chosen = breaks.find(scenario)
        spec = chosen.worker_for(worker, self.workers)
        chosen.induce(self, spec)
        shown = shlex.join([*command(f"remediate.{chosen.remediation}").split(" "), *chosen.flags_for(self, spec)])
        return f"{chosen.describe(self, spec)} ({spec.script}; answered by {shown})"

    def recovered(self, scenario: str, worker: str | None = None) -> bool:
        """The sandbox's own check that a scenario's harm is gone, independent of any remediation's claim."""
        chosen = breaks.find(scenario)
        return chosen.recovered(self, chosen.worker_for(worker, self.workers))

    # --- the parts ------------------------------------------------------------------------------

    def _part(self, part: str, fn: Callable[..., T], *args: Any) -> T:
        try:
            return fn(*args)
        except PartFailed:
            raise
        except (OpsError, OSError, subprocess.SubprocessError, httpx.HTTPError) as exc:
            raise PartFailed(part, exc) from exc

    def _hold_ports(self) -> None:
        """Check that this up's ports are free: a sandbox that chose its own chooses again when they are not."""
        needed = self._ports_to_bind()
        taken = self.ports.taken(needed)
        deadline = time.monotonic() + 5
        while taken and time.monotonic() < deadline:  # a part just stopped may still be letting go of its port
            time.sleep(0.2)
            taken = self.ports.taken(needed)
        if taken and self.ports.chosen and needed == self._ports_to_bind(everything=True):  # nothing of ours runs
            self.ports = Ports.choose()
            taken = self.ports.taken(needed)
        if taken:
            name = taken[0]
            fix = (f"set {BASE_VARIABLE} to another base (the sandbox takes 20 ports from it), or unset it to let the "
                   "sandbox choose" if not self.ports.chosen else f"run {command('sandbox.down')}, then {command('sandbox.up')} to choose others")
            raise SandboxError(f"port {self.ports[name]} ({_use_of(name)}) is taken by another process; {fix}")
        self.ports.remember(self.home)

    def _ports_to_bind(self, everything: bool = False) -> tuple[str, ...]:
        """The ports of the parts this up starts (``everything``: as if none ran)."""
        def off(part: str) -> bool:
            return everything or self.processes.pid(part) is None

        names = [*(self.ports.providers() if self.providers() and off("providers") else ())]
        if off("emulator"):
            names += ["emulator", *(w.key for w in self.served_workers)]  # the emulator serves the Workers' proxies
        names += [f"{w.key}_dev" for w in self.served_workers if off(f"worker-{w.key}")]
        return tuple(names)

    def _start(self, part: str, argv: list[str], ready: Callable[[], bool], timeout: float = 30,
               cwd: Path | None = None) -> None:
        if self.processes.pid(part) is not None and ready():
            return
        self.processes.stop(part)
        self.say(f"starting the {part} (log: {self.log(part)})")
        env = {**self.wrangler_env(), "PYTHONPATH": str(self.root)} if cwd else {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._started.append(part)
        self.processes.start(part, argv, ready, env=env, cwd=cwd or self.root, timeout=timeout)

    def _worker_status(self, spec: WorkerSpec) -> dict[str, Any]:
        from ops.sandbox.unhealthy import explain, not_given

        live, served, health = self.live_version(spec), self.served_version(spec), self.health(spec)
        live_dir, log = self.home / "live" / spec.script, self.log(f"worker-{spec.key}")
        return {"script": spec.script, "target": spec.target, "url": self.url_of(spec), "dev_url": self.dev_url_of(spec),
                "log": str(log), **health, "not_rehearsable": not_given(live_dir),
                "why": explain(health, log, live_dir, f"{self.dev_url_of(spec)}{spec.health_path}"),
                "version_id": served, "live_version_id": live, "follows_control_plane": live is not None and served == live}

    def _emulator_argv(self) -> list[str]:
        argv = [sys.executable, "-m", "ops.sandbox.emulator", "--port", str(self.ports.emulator),
                "--state", str(self.home / "emulator" / "state.json"), "--live-dir", str(self.home / "live"),
                "--token", self.token, "--account", ACCOUNT_ID, "--seed", self._seed()]
        for spec in self.served_workers:
            argv += ["--proxy", f"{spec.script}={self.ports[spec.key]}={self.dev_url_of(spec)}",
                     "--bridge-url", f"{self.dev_url_of(spec)}/__sandbox"]
        return argv

    def _seed(self) -> str:
        """The emulator's seed: the examples' scenarios, or what a team's Worker binds (ops.sandbox.own)."""
        own = [w for w in self.workers if w.source is not None]
        if not own:
            return "default,plain,ai,manuscript,infra"
        from ops.sandbox.own import seed

        path = self.home / "emulator" / "seed.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        merged: dict[str, Any] = {"kv": {}, "queues": {}, "d1": [], "r2": []}
        for spec in own:
            for key, value in seed(spec).items():
                if isinstance(value, list):
                    merged[key].extend(value)
                else:
                    merged[key].update(value)
        path.write_text(json.dumps(merged, indent=1), encoding="utf-8")
        return str(path)

    def _deploy_first(self, spec: WorkerSpec) -> None:
        if spec.source is not None:  # a team's Worker that is not deployed yet: from its latest files
            _rmtree(self.dir_of(spec))
            self._copy(spec)
        self.say(f"deploying {spec.script} to the emulator with wrangler deploy {' '.join(spec.wrangler_args())}".rstrip())
        secrets = self.secrets_of(spec)
        if secrets and _requires_secrets(self.config_of(spec)):  # wrangler refuses a first deploy without them
            given = self.home / "secrets" / f"{spec.key}.json"
            given.parent.mkdir(parents=True, exist_ok=True)
            given.touch(mode=0o600)
            given.write_text(json.dumps(secrets), encoding="utf-8")
            try:
                self.wrangler("deploy", "--secrets-file", str(given), worker=spec)
            finally:
                given.unlink(missing_ok=True)
            return
        self.wrangler("deploy", worker=spec)
        if self.live_version(spec) is None:
            state = get_json(f"{self.emulator_url}/__emulator/state", self.admin_headers) or {}
            raise SandboxError(f"wrangler deployed {', '.join(state.get('scripts', {})) or 'nothing'}, not {spec.script}; "
                               f"see {self.config_of(spec)}")
        from ops.cloudflare import put_secret

        with_client(self, lambda c: [put_secret(c, spec.script, k, v) for k, v in self.secrets_of(spec).items()])

    def _serve(self, spec: WorkerSpec) -> None:
        live = self.home / "live" / spec.script
        self._start(f"worker-{spec.key}", [
            sys.executable, "-m", "ops.sandbox.follower", "--emulator", self.emulator_url,
            "--worker", self.dev_url_of(spec), "--script", spec.script, "--live-dir", str(live), "--",
            self.wrangler_bin(spec), "dev", "--config", str(live / "wrangler.json"),
            "--ip", "127.0.0.1", "--port", str(self.ports[spec.key + "_dev"]),
            "--persist-to", str(self.home / "persist" / spec.key), "--show-interactive-dev-session=false",
            "--log-level", "warn"], lambda: self.served_version(spec) is not None, timeout=90, cwd=live)
        self.wait_live(spec)

    def _copy_examples(self) -> None:
        """Copy each Worker's folder (never edited: remediations and breaks work on the copy)."""
        for spec in self.workers:
            if not self.config_of(spec).exists():
                self._copy(spec)

    def _copy(self, spec: WorkerSpec) -> None:
        source = self.source_of(spec)
        skipped = NOT_COPIED if spec.source else (".wrangler", ".dev.vars*")
        shutil.copytree(source, self.dir_of(spec), dirs_exist_ok=True, ignore=shutil.ignore_patterns(*skipped))
        link = self.dir_of(spec) / "node_modules"
        if (source / "node_modules").is_dir() and not link.is_symlink():  # what the Worker imports
            link.symlink_to(source / "node_modules")

    def _ensure_npm(self) -> None:
        if all(Path(self.wrangler_bin(spec)).exists() for spec in self.workers):
            return
        if not (self.root / "package.json").exists():
            raise SandboxError("wrangler is not installed: add it to your Worker's repository (npm install --save-dev "
                               "wrangler) or point OPS_WRANGLER at one")
        self.say("installing the npm parts (wrangler, workerd) with npm ci; this happens once")
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=self.root, check=False)
        if done.returncode != 0:
            raise SandboxError("npm ci failed; run it by hand in the repo root to see why")

    def _give_provider_keys(self) -> None:
        """Each AI provider accepts the key the AI Worker is given (a wrong secret is then refused, as in production)."""
        from ops.sandbox.provider_keys import KEY_SECRETS

        given = {k: v for w in self.workers if w.source is None for k, v in self.secrets_of(w).items()}
        for provider, secret in KEY_SECRETS.items():
            if secret in given and provider in self.ports.providers():
                loopback.put(f"{self.provider_url(provider)}/__provider/config", json={"api_key": given[secret]},
                             timeout=10).raise_for_status()

    def _write_overrides(self) -> None:
        live = self.home / "live"
        live.mkdir(parents=True, exist_ok=True)
        # Each provider's URL var, as the Workers name them (GOOGLE_BOOKS_URL, OPENAI_URL, ...), and the emulator's.
        urls = {f"{name.upper()}_URL": self.provider_url(name) for name in PROVIDERS}
        urls[EMULATOR_URL] = self.emulator_url
        path, text = live / "overrides.json", json.dumps(urls)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def _chosen_examples(home: Path) -> tuple[WorkerSpec, ...]:
    """The example Workers OPS_SANDBOX_WORKERS names (e.g. ``books,plain``), in that order; unset: those the running
    sandbox serves (its ``up`` remembers them until ``down``), else all of them."""
    chosen = os.environ.get(WORKERS_VARIABLE, "")
    if not chosen.strip():
        try:
            chosen = (home / SERVED).read_text(encoding="utf-8")
        except OSError:
            return WORKERS
    by_key = {spec.key: spec for spec in WORKERS}
    keys = [key.strip() for key in chosen.split(",") if key.strip()]
    unknown = [key for key in keys if key not in by_key]
    if unknown:
        raise InputError(f"{WORKERS_VARIABLE}={chosen}: no example Worker {unknown[0]!r}; name some of "
                         f"{', '.join(by_key)}, comma-separated, or unset it to serve them all")
    return tuple(by_key[key] for key in dict.fromkeys(keys))


def _requires_secrets(config: Path) -> bool:
    """Whether the Worker's config declares ``secrets.required`` (wrangler then refuses a deploy that lacks them)."""
    from ops.documents.config import load_config

    try:
        secrets = load_config(config).data.get("secrets")
    except (OpsError, OSError):
        return False
    return isinstance(secrets, dict) and bool(secrets.get("required"))


def _use_of(name: str) -> str:
    """What a port is for, by its name in PORT_OFFSETS."""
    if name == "emulator":
        return "the emulator"
    if name in PROVIDERS:
        return f"the fake {name} provider"
    if name.endswith("_dev"):
        return f"the {name.removesuffix('_dev')} Worker's wrangler dev"
    return f"the {name} Worker's recording proxy, in the emulator"


def _reason(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, OpsError) else f"{type(exc).__name__}: {exc}"


def _rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
