"""The sandbox's lifecycle: up, status, break, reset, down.

Parts run as detached processes with pid files and logs under the sandbox's
home (``.sandbox/``): the control-plane emulator (which also runs a recording
proxy in front of each Worker: the targets' ``worker_url``), the fake
providers, and each example Worker on real workerd through its own `wrangler
dev`, supervised by a follower. The Workers are deployed to the emulator with
the real `wrangler deploy`, from the sandbox's own copies under
``.sandbox/workers/`` (remediations edit those, never the repo), and follow the
emulator's live version from then on.

Run in a Worker's repository instead (``Sandbox.default``), the sandbox serves that
repository's Worker (``ops.sandbox.own``): the same parts and the same machinery, with
its home in the repository's ``.sandbox/`` and no fake providers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import httpx

from ops.errors import InputError, SandboxError
from ops.sandbox.constants import (ACCOUNT_ID, BOOKS, DEFAULT_PORTS, KV_ID, OWN_PORTS, PROVIDERS, SECRETS, TOKEN,
                                   WORKER, WORKERS, WorkerSpec)
from ops.sandbox.live import EMULATOR_URL

__all__ = ["ACCOUNT_ID", "KV_ID", "SECRETS", "TOKEN", "WORKER", "Ports", "Sandbox", "with_client"]
Say = Callable[[str], None]
REPO = Path(__file__).resolve().parents[2]
ALL_PORTS = {**DEFAULT_PORTS, **OWN_PORTS}
# Not copied into the sandbox's copy of a team's Worker (node_modules is linked instead).
NOT_COPIED = (".git", ".sandbox", ".journal", ".wrangler", ".dev.vars*", ".venv", "node_modules", "__pycache__")


@dataclass(frozen=True)
class Ports:
    """Every port of one sandbox; ``<key>`` is a Worker's public port (its proxy), ``<key>_dev`` its wrangler dev."""

    ports: dict[str, int] = field(default_factory=lambda: dict(ALL_PORTS))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Ports:
        env = os.environ if environ is None else environ
        chosen = {name: int(env.get(f"OPS_SANDBOX_{name.upper()}_PORT") or default) for name, default in ALL_PORTS.items()}
        if env.get("OPS_SANDBOX_WORKER_PORT") and not env.get("OPS_SANDBOX_BOOKS_PORT"):
            chosen["books"] = int(env["OPS_SANDBOX_WORKER_PORT"])  # the name before there were two Workers
        return cls(chosen)

    @classmethod
    def free(cls) -> Ports:
        from ops.sandbox.testing import free_ports

        return cls(dict(zip(ALL_PORTS, free_ports(len(ALL_PORTS)))))

    def __getitem__(self, name: str) -> int:
        return self.ports[name]

    @property
    def emulator(self) -> int:
        return self.ports["emulator"]

    def providers(self) -> dict[str, int]:
        return {name: self.ports[name] for name in PROVIDERS}


@dataclass
class Sandbox:
    root: Path
    home: Path
    ports: Ports = field(default_factory=Ports)
    say: Say = lambda _: None
    token: str = TOKEN  # tests plant a canary here and in the secrets, and scan every output for it
    secrets: dict[str, str] = field(default_factory=lambda: dict(SECRETS))  # the books Worker's
    workers: tuple[WorkerSpec, ...] = WORKERS
    other_secrets: dict[str, dict[str, str]] = field(default_factory=dict)  # by Worker key; default: its spec's
    other_credentials: dict[str, dict[str, str]] = field(default_factory=dict)  # by Worker key; default: its spec's

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
            return cls(REPO, home, Ports.from_env(), say)
        try:
            config = find_config(Path.cwd())
        except InputError:
            raise InputError(f"{Path.cwd()}: no wrangler.json, wrangler.jsonc or wrangler.toml here or above; run the "
                             "sandbox in your Worker's repository (or in a checkout of cfw-remedy for its examples)") from None
        home = Path(os.environ.get("OPS_SANDBOX_HOME") or config.parent / ".sandbox")
        env, target = remembered(home, env, target)
        return cls(REPO, home, Ports.from_env(), say, secrets={}, workers=(own_worker(Path.cwd(), env, target=target),))

    # --- addresses ------------------------------------------------------------------------

    @property
    def api_base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.emulator}/client/v4"

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.emulator}"

    @property
    def admin_headers(self) -> dict[str, str]:
        """What the emulator's admin routes (/__emulator/…) need: this sandbox's API token."""
        from ops.sandbox.emulator.server import admin_headers

        return admin_headers(self.token)

    @property
    def worker_url(self) -> str:
        """The books Worker, through its recording proxy (what the `sandbox` target calls)."""
        return self.url_of(BOOKS)

    @property
    def worker_dir(self) -> Path:
        """The sandbox's copy of the books Worker (remediations edit this one)."""
        return self.dir_of(BOOKS)

    def url_of(self, spec: WorkerSpec) -> str:
        return f"http://127.0.0.1:{self.ports[spec.key]}"

    def dev_url_of(self, spec: WorkerSpec) -> str:
        """The Worker's `wrangler dev` itself, behind the proxy: the sandbox's own checks go here, unrecorded."""
        return f"http://127.0.0.1:{self.ports[spec.key + '_dev']}"

    def dir_of(self, spec: WorkerSpec) -> Path:
        return self.home / "workers" / spec.example

    def config_of(self, spec: WorkerSpec) -> Path:
        """The sandbox's copy of the Worker's wrangler config (remediations edit this one)."""
        return self.dir_of(spec) / spec.config

    def source_of(self, spec: WorkerSpec) -> Path:
        return spec.source or self.root / "examples" / spec.example

    def secrets_of(self, spec: WorkerSpec) -> dict[str, str]:
        return self.secrets if spec is BOOKS else dict(self.other_secrets.get(spec.key) or spec.secrets)

    def credentials_of(self, spec: WorkerSpec) -> dict[str, str]:
        """The target's environment beyond the Worker's secrets (a login probe's password)."""
        return dict(self.other_credentials.get(spec.key) or spec.credentials)

    @property
    def first(self) -> WorkerSpec:
        """The Worker whose target is the generated targets file's default: books when served, else the first."""
        return BOOKS if BOOKS in self.workers else self.workers[0]

    def provider_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports.providers()[name]}"

    def log(self, part: str) -> Path:
        return self.home / "logs" / f"{part}.log"

    def wrangler_env(self) -> dict[str, str]:
        return {**os.environ, "CLOUDFLARE_API_BASE_URL": self.api_base_url, "CLOUDFLARE_ACCOUNT_ID": ACCOUNT_ID,
                "CLOUDFLARE_API_TOKEN": self.token, "WRANGLER_SEND_METRICS": "false", "CI": "true",
                "HOME": str(self.home / "wrangler-home"), "XDG_CONFIG_HOME": str(self.home / "wrangler-home" / ".config")}

    def client(self) -> Any:
        from ops.cloudflare import CloudflareClient

        return CloudflareClient(ACCOUNT_ID, self.token, base_url=self.api_base_url)

    def targets_file(self) -> Path:
        """A targets.toml with one target per sandbox Worker; the first Worker's (books, or a team's own) is the default."""
        path = self.home / "targets.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f'default = "{self.first.target}"\n' + "".join(self._target(spec) for spec in self.workers), encoding="utf-8")
        return path

    def _target(self, spec: WorkerSpec) -> str:
        env = {**self.secrets_of(spec), **self.credentials_of(spec)}
        secrets = ", ".join(f"{k} = {json.dumps(v)}" for k, v in env.items())
        popular = self.dir_of(spec) / "popular-keys.txt"
        return (f'[targets.{spec.target}]\nroot = {json.dumps(str(spec.source or self.root))}\napi_base_url = "{self.api_base_url}"\n'
                f'account_id = "{ACCOUNT_ID}"\ntoken = {json.dumps(self.token)}\ntoken_is_public = {str(self.token == TOKEN).lower()}\n'
                f'worker = "{spec.script}"\nworker_url = "{self.url_of(spec)}"\n'
                f'wrangler_config = {json.dumps(str(self.config_of(spec)))}\n'
                + (f'wrangler_env = {json.dumps(spec.env)}\n' if spec.env else "")
                + (f'popular_keys = {json.dumps(str(popular))}\n' if (self.source_of(spec) / "popular-keys.txt").exists() else "")
                + (f'health = {spec.health}\n' if spec.health else "")
                + f'env = {{ {secrets} }}\n'
                + spec.settings.format(target=spec.target))

    # --- lifecycle --------------------------------------------------------------------------

    def up(self) -> dict[str, Any]:
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        self._ensure_npm()
        self._copy_examples()
        if self.providers():
            self._start("providers", [sys.executable, "-m", "ops.sandbox.providers",
                                      "--ports", ",".join(str(p) for p in self.ports.providers().values())],
                        lambda: all(_ok(f"{self.provider_url(n)}/__provider/config") for n in self.ports.providers()))
        self._write_overrides()
        self._start("emulator", self._emulator_argv(), lambda: _ok(f"{self.emulator_url}/__emulator/health"))
        served = self.served_workers
        with ThreadPoolExecutor(max(1, len(served))) as pool:  # a wrangler deploy, then a wrangler dev, per Worker, side by side
            list(pool.map(self._deploy_first, [w for w in served if not self.live_version(w)]))
            list(pool.map(self._seed_d1, served))
            list(pool.map(self._serve, served))
        self.targets_file()  # for sandboxes on other ports or homes: OPS_TARGETS_FILE=<home>/targets.toml
        return self.status()

    def down(self) -> None:
        """Stop every part this home started, whichever Workers it served."""
        self._stop(*sorted(p.stem for p in (self.home / "pids").glob("*.pid")))

    def providers(self) -> list[str]:
        """The fake upstreams, which only the example Workers call."""
        return list(self.ports.providers()) if any(w.source is None for w in self.workers) else []

    def reset(self) -> dict[str, Any]:
        self.down()
        for sub in ("emulator", "live", "persist", "workers"):
            _rmtree(self.home / sub)
        return self.up()

    @property
    def served_workers(self) -> tuple[WorkerSpec, ...]:
        return tuple(w for w in self.workers if w.served)

    def status(self) -> dict[str, Any]:
        workers = {spec.key: self._worker_status(spec) for spec in self.served_workers}
        parts: dict[str, Any] = {
            "emulator": {"url": self.api_base_url, "healthy": _ok(f"{self.emulator_url}/__emulator/health"),
                         "log": str(self.log("emulator"))},
            "providers": {n: {"url": self.provider_url(n), "healthy": _ok(f"{self.provider_url(n)}/health"),
                              "config": _json(f"{self.provider_url(n)}/__provider/config")} for n in self.providers()},
            "worker": workers[self.first.key],
            "workers": workers,
        }
        parts["providers_healthy"] = all(p["healthy"] for p in parts["providers"].values())
        healthy = parts["emulator"]["healthy"] and parts["providers_healthy"] and all(w["healthy"] for w in workers.values())
        return {"healthy": bool(healthy), "account_id": ACCOUNT_ID, "token": self.token, "api_base_url": self.api_base_url,
                "worker_url": self.url_of(self.first), "worker": self.first.script, "parts": parts,
                "targets_file": str(self.home / "targets.toml"),
                "env": {"CLOUDFLARE_API_BASE_URL": self.api_base_url, "CLOUDFLARE_ACCOUNT_ID": ACCOUNT_ID,
                        "CLOUDFLARE_API_TOKEN": self.token}}

    def wait_live(self, spec: WorkerSpec = BOOKS, timeout: float = 60) -> str:
        """Wait until the Worker serves the emulator's live version, with its latest config and secrets; return its id."""
        from ops.sandbox.live import materialized_stamp

        deadline = time.monotonic() + timeout
        live = None
        while time.monotonic() < deadline:
            live = self.live_version(spec)
            served = self.served(spec)
            if live and served.get("version_id") == live and served.get("stamp") == materialized_stamp(self.home / "live" / spec.script):
                return live
            time.sleep(0.1)
        raise SandboxError(f"{spec.script} did not pick up version {live} within {timeout:.0f}s; see {self.log('worker-' + spec.key)}")

    # --- break scenarios ----------------------------------------------------------------------

    def break_(self, scenario: str, worker: str | None = None) -> str:
        from ops.sandbox.breaks import find

        chosen = find(scenario)
        spec = chosen.worker_for(worker, self.workers)
        chosen.induce(self, spec)
        return f"{chosen.describe(self, spec)} ({spec.script}; answered by inv remediate.{chosen.remediation})"

    def recovered(self, scenario: str, worker: str | None = None) -> bool:
        """The sandbox's own check that a scenario's harm is gone, independent of any remediation's claim."""
        from ops.sandbox.breaks import find

        chosen = find(scenario)
        return chosen.recovered(self, chosen.worker_for(worker, self.workers))

    # --- helpers ------------------------------------------------------------------------------

    def wrangler(self, *args: str, worker: WorkerSpec = BOOKS) -> str:
        """Run wrangler in the sandbox's copy of the Worker, on its env (``--env``), against the emulator."""
        done = subprocess.run([self._wrangler_bin(worker), *args, *worker.wrangler_args()], cwd=self.dir_of(worker),
                              env=self.wrangler_env(), capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            said = re.sub(r"\x1b\[[0-9;]*m", "", done.stderr or done.stdout)  # wrangler colours its errors even in a pipe
            raise SandboxError(f"wrangler {' '.join(args)} failed ({done.returncode}): {said[-600:]}")
        return done.stdout

    def live_version(self, spec: WorkerSpec = BOOKS) -> str | None:
        live = (_json(f"{self.emulator_url}/__emulator/live/{spec.script}") or {}).get("version_id")
        return str(live) if live else None

    def served_version(self, spec: WorkerSpec = BOOKS) -> str | None:
        """The version the Worker's wrangler dev runs, from the sandbox's entry shim (not the Worker's code)."""
        version = self.served(spec).get("version_id")
        return str(version) if version else None

    def served(self, spec: WorkerSpec) -> dict[str, Any]:
        body = _json(f"{self.dev_url_of(spec)}/__sandbox/version")
        return body if isinstance(body, dict) else {}

    def health(self, spec: WorkerSpec = BOOKS, timeout: float = 3) -> dict[str, Any]:
        """What the Worker answers on its health path, asked directly (not through the recording proxy)."""
        try:
            response = httpx.get(f"{self.dev_url_of(spec)}{spec.health_path}", timeout=timeout)
        except httpx.HTTPError:
            return {"healthy": False, "status": None}
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        return {"healthy": response.status_code == spec.health_status, "status": response.status_code,
                **({"provider_order": body.get("provider_order")} if "provider_order" in body else {}),
                **({"secrets": body.get("secrets")} if "secrets" in body else {})}

    def _worker_status(self, spec: WorkerSpec) -> dict[str, Any]:
        live, served = self.live_version(spec), self.served_version(spec)
        return {"script": spec.script, "target": spec.target, "url": self.url_of(spec), "dev_url": self.dev_url_of(spec),
                "log": str(self.log(f"worker-{spec.key}")), **self.health(spec),
                "version_id": served, "live_version_id": live, "follows_control_plane": live is not None and served == live}

    def _emulator_argv(self) -> list[str]:
        argv = [sys.executable, "-m", "ops.sandbox.emulator", "--port", str(self.ports.emulator),
                "--state", str(self.home / "emulator" / "state.json"), "--live-dir", str(self.home / "live"),
                "--token", self.token, "--account", ACCOUNT_ID, "--seed", self._seed()]
        for spec in self.served_workers:
            argv += ["--proxy", f"{spec.script}={self.ports[spec.key]}={self.dev_url_of(spec)}",
                     "--console-log", f"{spec.script}={self.log('worker-' + spec.key)}",
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
        self.wrangler("deploy", worker=spec)
        if self.live_version(spec) is None:
            state = _json(f"{self.emulator_url}/__emulator/state", self.admin_headers) or {}
            raise SandboxError(f"wrangler deployed {', '.join(state.get('scripts', {})) or 'nothing'}, not {spec.script}; "
                               f"see {self.config_of(spec)}")
        from ops.cloudflare import put_secret

        with_client(self, lambda c: [put_secret(c, spec.script, k, v) for k, v in self.secrets_of(spec).items()])

    def _seed_d1(self, spec: WorkerSpec) -> None:
        """Apply the example's migrations and its users to its D1 databases, through the D1 API (idempotent)."""
        from ops.sandbox.d1_seed import seed

        seed(self, spec)

    def _serve(self, spec: WorkerSpec) -> None:
        live = self.home / "live" / spec.script
        self._start(f"worker-{spec.key}", [
            sys.executable, "-m", "ops.sandbox.follower", "--emulator", self.emulator_url,
            "--worker", self.dev_url_of(spec), "--script", spec.script, "--live-dir", str(live), "--",
            self._wrangler_bin(spec), "dev", "--config", str(live / "wrangler.json"),
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

    def _wrangler_bin(self, spec: WorkerSpec = BOOKS) -> str:
        """A Worker's repository's own wrangler (node_modules, OPS_WRANGLER, PATH); else this checkout's pinned one."""
        if spec.source is not None:
            from ops.actions.wrangler import wrangler_bin

            try:
                return wrangler_bin(spec.source)
            except InputError:
                pass
        return str(self.root / "node_modules" / ".bin" / "wrangler")

    def _ensure_npm(self) -> None:
        if all(Path(self._wrangler_bin(spec)).exists() for spec in self.workers):
            return
        if not (self.root / "package.json").exists():
            raise SandboxError("wrangler is not installed: add it to your Worker's repository (npm install --save-dev "
                               "wrangler) or point OPS_WRANGLER at one")
        self.say("installing the npm parts (wrangler, workerd) with npm ci; this happens once")
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=self.root, check=False)
        if done.returncode != 0:
            raise SandboxError("npm ci failed; run it by hand in the repo root to see why")

    def _write_overrides(self) -> None:
        live = self.home / "live"
        live.mkdir(parents=True, exist_ok=True)
        # Each provider's URL var, as the Workers name them (GOOGLE_BOOKS_URL, OPENAI_URL, ...), and the emulator's.
        urls = {f"{name.upper()}_URL": self.provider_url(name) for name in PROVIDERS}
        urls[EMULATOR_URL] = self.emulator_url
        (live / "overrides.json").write_text(json.dumps(urls))

    def _pid(self, part: str) -> int | None:
        path = self.home / "pids" / f"{part}.pid"
        try:
            pid = int(path.read_text())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def _start(self, part: str, argv: list[str], ready: Callable[[], bool], timeout: float = 30,
               cwd: Path | None = None) -> None:
        if self._pid(part) is not None and ready():
            return
        self._stop(part)
        self.say(f"starting the {part} (log: {self.log(part)})")
        (self.home / "pids").mkdir(parents=True, exist_ok=True)
        env = {**self.wrangler_env(), "PYTHONPATH": str(self.root)} if cwd else {**os.environ, "PYTHONUNBUFFERED": "1"}
        with self.log(part).open("ab") as log:
            proc = subprocess.Popen(argv, cwd=cwd or self.root, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, env=env)
        (self.home / "pids" / f"{part}.pid").write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SandboxError(f"the {part} exited with {proc.returncode} while starting; see {self.log(part)}")
            if ready():
                return
            time.sleep(0.2)
        raise SandboxError(f"the {part} did not become healthy within {timeout:.0f}s; see {self.log(part)}")

    def _stop(self, *parts: str) -> None:
        """Stop parts together: SIGTERM to each process group, then SIGKILL to what is left after 5 s."""
        running = {part: pid for part in parts if (pid := self._pid(part)) is not None}
        for pid in running.values():
            try:
                os.killpg(pid, signal.SIGTERM)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(_alive(pid) for pid in running.values()):
            time.sleep(0.05)
        for part, pid in running.items():
            if _alive(pid):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
            (self.home / "pids" / f"{part}.pid").unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie of ours (started by this process) is gone for our purposes
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:
        return True


def with_client(sandbox: Sandbox, fn: Callable[[Any], Any]) -> Any:
    client = sandbox.client()
    try:
        return fn(client)
    finally:
        client.close()


def _ok(url: str, any_status: bool = False) -> bool:
    try:
        response = httpx.get(url, timeout=2)
        return any_status or response.status_code == 200
    except httpx.HTTPError:
        return False


def _json(url: str, headers: dict[str, str] | None = None) -> Any:
    try:
        return httpx.get(url, headers=headers, timeout=3).json()
    except (httpx.HTTPError, ValueError):
        return None


def _rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
