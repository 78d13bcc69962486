"""The sandbox's lifecycle: up, status, break, reset, down.

Three parts run as detached processes with pid files and logs under
``.sandbox/``: the control-plane emulator, the fake providers, and the example
Worker on real workerd through `wrangler dev`. The Worker is deployed to the
emulator with the real `wrangler deploy`, and follows the emulator's live
version from then on.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import httpx

from ops.errors import SandboxError

ACCOUNT_ID = "5a4db0c5000000000000000000000000"
TOKEN = "sandbox-local-token"
WORKER = "books-api"
KV_ID = "b0b0cafe000000000000000000000001"
SECRETS = {"CACHE_WARM_SECRET": "sandbox-warm-secret-0000", "JWT_SECRET": "sandbox-jwt-secret-0000"}
SCENARIOS = {
    "cache-flush": "empty the Worker's KV cache: the hit rate drops",
    "bad-deploy": "deploy a broken version with wrangler deploy: /health answers 500",
    "secret-missing": "delete CACHE_WARM_SECRET: cache warming is refused",
    "consumer-detached": "detach the queue consumer: the enrichment backlog grows",
    "dead-letters": "put 8 failed enrichment jobs in the dead-letter queue (enrichment-dlq)",
    "provider-slow": "make the first provider in PROVIDER_ORDER slow and failing",
    "binding-mismatch": "recreate the books-cache KV namespace under a new id: the config's id no longer exists",
}
Say = Callable[[str], None]


@dataclass(frozen=True)
class Ports:
    emulator: int = 18700
    worker: int = 18787
    google_books: int = 18701
    openlibrary: int = 18702
    isbndb: int = 18703

    @classmethod
    def from_env(cls) -> Ports:
        defaults = cls()
        return cls(**{name: int(os.environ.get(f"OPS_SANDBOX_{name.upper()}_PORT", getattr(defaults, name)))
                      for name in ("emulator", "worker", "google_books", "openlibrary", "isbndb")})

    def providers(self) -> dict[str, int]:
        return {"google_books": self.google_books, "openlibrary": self.openlibrary, "isbndb": self.isbndb}


@dataclass
class Sandbox:
    root: Path
    home: Path
    ports: Ports = field(default_factory=Ports)
    say: Say = lambda _: None
    worker_src: Path | None = None  # the example Worker's folder (a copy in tests, so the repo stays untouched)
    token: str = TOKEN  # tests plant a canary here and in the secrets, and scan every output for it
    secrets: dict[str, str] = field(default_factory=lambda: dict(SECRETS))

    @property
    def worker_dir(self) -> Path:
        return self.worker_src or self.root / "examples" / "books-worker"

    @classmethod
    def default(cls, say: Say | None = None) -> Sandbox:
        root = Path(__file__).resolve().parents[2]
        home = Path(os.environ.get("OPS_SANDBOX_HOME") or root / ".sandbox")
        return cls(root, home, Ports.from_env(), say or (lambda _: None))

    # --- addresses ------------------------------------------------------------------------

    @property
    def api_base_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.emulator}/client/v4"

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.emulator}"

    @property
    def worker_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.worker}"

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
        """A targets.toml whose default target is this sandbox (for other ports or homes)."""
        path = self.home / "targets.toml"
        secrets = ", ".join(f'{k} = "{v}"' for k, v in self.secrets.items())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            'default = "sandbox"\n[targets.sandbox]\n'
            f'root = "{self.root}"\napi_base_url = "{self.api_base_url}"\naccount_id = "{ACCOUNT_ID}"\n'
            f'token = "{self.token}"\ntoken_is_public = {str(self.token == TOKEN).lower()}\nworker = "{WORKER}"\nworker_url = "{self.worker_url}"\n'
            f'wrangler_config = "{self.worker_dir / "wrangler.toml"}"\npopular_keys = "{self.worker_dir / "popular-keys.txt"}"\n'
            f'env = {{ {secrets} }}\n', encoding="utf-8")
        return path

    # --- lifecycle --------------------------------------------------------------------------

    def up(self) -> dict[str, Any]:
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "logs").mkdir(exist_ok=True)
        self._ensure_npm()
        self._start("providers", [sys.executable, "-m", "ops.sandbox.providers",
                                  "--ports", ",".join(str(p) for p in self.ports.providers().values())],
                     lambda: all(_ok(f"{self.provider_url(n)}/health") for n in self.ports.providers()))
        self._write_overrides()
        self._start("emulator", [sys.executable, "-m", "ops.sandbox.emulator", "--port", str(self.ports.emulator),
                                 "--state", str(self.home / "emulator" / "state.json"),
                                 "--live-dir", str(self.home / "live"), "--token", self.token, "--account", ACCOUNT_ID,
                                 "--bridge-url", f"{self.worker_url}/__sandbox"],
                     lambda: _ok(f"{self.emulator_url}/__emulator/health"))
        if not self._deployed():
            self.say("deploying the example Worker to the emulator with wrangler deploy")
            self.wrangler("deploy")
            self._put_secrets()
        self._start("worker", [sys.executable, "-m", "ops.sandbox.follower", "--emulator", self.emulator_url,
                               "--worker", self.worker_url, "--script", WORKER, "--",
                               self._wrangler_bin(), "dev", "--config", str(self.home / "live" / "wrangler.json"),
                               "--ip", "127.0.0.1", "--port", str(self.ports.worker),
                               "--persist-to", str(self.home / "persist"), "--show-interactive-dev-session=false",
                               "--log-level", "warn"],
                     lambda: _ok(f"{self.worker_url}/health", any_status=True), timeout=90)
        self.wait_live()
        return self.status()

    def down(self) -> None:
        for part in ("worker", "emulator", "providers"):
            self._stop(part)

    def reset(self) -> dict[str, Any]:
        self.down()
        for sub in ("emulator", "live", "persist"):
            _rmtree(self.home / sub)
        if self.worker_src is not None:  # a test's copy of the example: back to the pristine config
            import shutil

            _rmtree(self.worker_src)
            shutil.copytree(self.root / "examples" / "books-worker", self.worker_src, ignore=shutil.ignore_patterns(".wrangler"))
        return self.up()

    def status(self) -> dict[str, Any]:
        parts: dict[str, Any] = {
            "emulator": {"url": self.api_base_url, "healthy": _ok(f"{self.emulator_url}/__emulator/health"),
                         "log": str(self.log("emulator"))},
            "providers": {n: {"url": self.provider_url(n), "healthy": _ok(f"{self.provider_url(n)}/health"),
                              "config": _json(f"{self.provider_url(n)}/__provider/config")} for n in self.ports.providers()},
            "worker": {"url": self.worker_url, "log": str(self.log("worker")), **self._worker_health()},
        }
        parts["providers_healthy"] = all(p["healthy"] for p in parts["providers"].values())
        live = self._live_version()
        parts["worker"]["live_version_id"] = live
        parts["worker"]["follows_control_plane"] = live is not None and parts["worker"].get("version_id") == live
        healthy = parts["emulator"]["healthy"] and parts["providers_healthy"] and parts["worker"]["healthy"]
        return {"healthy": bool(healthy), "account_id": ACCOUNT_ID, "token": self.token, "api_base_url": self.api_base_url,
                "worker_url": self.worker_url, "worker": WORKER, "parts": parts,
                "env": {"CLOUDFLARE_API_BASE_URL": self.api_base_url, "CLOUDFLARE_ACCOUNT_ID": ACCOUNT_ID,
                        "CLOUDFLARE_API_TOKEN": self.token}}

    def wait_live(self, timeout: float = 60) -> str:
        """Wait until the Worker serves the emulator's live version; return its id."""
        deadline = time.monotonic() + timeout
        live = None
        while time.monotonic() < deadline:
            live = self._live_version()
            if live and self._worker_health().get("version_id") == live:
                return live
            time.sleep(0.1)
        raise SandboxError(f"the Worker did not pick up version {live} within {timeout:.0f}s; see {self.log('worker')}")

    # --- break scenarios ----------------------------------------------------------------------

    def break_(self, scenario: str) -> str:
        if scenario not in SCENARIOS:
            from ops.errors import InputError

            raise InputError(f"no scenario {scenario!r}; choose one of: {', '.join(SCENARIOS)}")
        getattr(self, "_break_" + scenario.replace("-", "_"))()
        return SCENARIOS[scenario]

    def _break_cache_flush(self) -> None:
        response = httpx.post(f"{self.worker_url}/admin/cache/flush", headers={"X-Cache-Warm-Secret": self.secrets["CACHE_WARM_SECRET"]}, timeout=30)
        if response.status_code != 200:
            raise SandboxError(f"cache flush failed: {response.status_code} {response.text[:200]}")

    def _break_bad_deploy(self) -> None:
        self.wrangler("deploy", "--var", "BREAK_HEALTH:true", "--message", "sandbox: a bad deploy")
        self.wait_live()

    def _break_secret_missing(self) -> None:
        from ops.cloudflare import delete_secret

        with_client(self, lambda c: delete_secret(c, WORKER, "CACHE_WARM_SECRET"))
        self.wait_live()

    def _break_consumer_detached(self) -> None:
        from ops.cloudflare import delete_consumer
        from ops.cloudflare.operations import find_queue

        def detach(c: Any) -> None:
            queue = find_queue(c, "enrichment-jobs", WORKER)
            if queue["consumer_id"]:
                delete_consumer(c, queue["queue_id"], queue["consumer_id"])
        with_client(self, detach)
        time.sleep(1.5)  # the Worker reloads without its consumer

    def _break_dead_letters(self) -> None:
        from ops.cloudflare import push_messages
        from ops.cloudflare.operations import find_queue

        def dead_letter(c: Any) -> None:
            dlq = find_queue(c, "enrichment-dlq")
            jobs = [{"body": {"id": f"dead-{i}", "isbn": f"97800000009{i:02d}", "at": 0}, "content_type": "json"} for i in range(8)]
            push_messages(c, dlq["queue_id"], jobs)
        with_client(self, dead_letter)

    def _break_provider_slow(self) -> None:
        first = (self._worker_health().get("provider_order") or ["google_books"])[0]
        httpx.put(f"{self.provider_url(first)}/__provider/config", json={"latency_ms": 2500, "failure_rate": 0.5}, timeout=10)

    def _break_binding_mismatch(self) -> None:
        from ops.cloudflare import create_kv_namespace, delete_kv_namespace

        def swap(c: Any) -> None:
            from ops.cloudflare import list_kv_namespaces

            for namespace in list_kv_namespaces(c):
                if namespace["title"] == "books-cache":
                    delete_kv_namespace(c, namespace["id"])
            create_kv_namespace(c, "books-cache")
        with_client(self, swap)

    # --- helpers ------------------------------------------------------------------------------

    def wrangler(self, *args: str) -> str:
        done = subprocess.run([self._wrangler_bin(), *args], cwd=self.worker_dir,
                              env=self.wrangler_env(), capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise SandboxError(f"wrangler {' '.join(args)} failed ({done.returncode}): {(done.stderr or done.stdout)[-600:]}")
        return done.stdout

    def _wrangler_bin(self) -> str:
        return str(self.root / "node_modules" / ".bin" / "wrangler")

    def _ensure_npm(self) -> None:
        if (self.root / "node_modules" / ".bin" / "wrangler").exists():
            return
        self.say("installing the npm parts (wrangler, workerd) with npm ci; this happens once")
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=self.root, check=False)
        if done.returncode != 0:
            raise SandboxError("npm ci failed; run it by hand in the repo root to see why")

    def _write_overrides(self) -> None:
        live = self.home / "live"
        live.mkdir(parents=True, exist_ok=True)
        urls = {"GOOGLE_BOOKS_URL": "google_books", "OPENLIBRARY_URL": "openlibrary", "ISBNDB_URL": "isbndb"}
        (live / "overrides.json").write_text(json.dumps({k: self.provider_url(v) for k, v in urls.items()}))

    def _deployed(self) -> bool:
        return self._live_version() is not None

    def _live_version(self) -> str | None:
        state = _json(f"{self.emulator_url}/__emulator/state")
        script = (state or {}).get("scripts", {}).get(WORKER)
        if not script or not script.get("deployments"):
            return None
        return str(script["deployments"][0]["versions"][0]["version_id"])

    def _worker_health(self) -> dict[str, Any]:
        try:
            response = httpx.get(f"{self.worker_url}/health", timeout=3)
            body = response.json()
            return {"healthy": response.status_code == 200, "status": response.status_code,
                    "version_id": body.get("version_id"), "provider_order": body.get("provider_order")}
        except (httpx.HTTPError, ValueError):
            return {"healthy": False, "status": None, "version_id": None}

    def _put_secrets(self) -> None:
        from ops.cloudflare import put_secret

        with_client(self, lambda c: [put_secret(c, WORKER, k, v) for k, v in self.secrets.items()])

    def _pid(self, part: str) -> int | None:
        path = self.home / "pids" / f"{part}.pid"
        try:
            pid = int(path.read_text())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def _start(self, part: str, argv: list[str], ready: Callable[[], bool], timeout: float = 30) -> None:
        if self._pid(part) is not None and ready():
            return
        self._stop(part)
        self.say(f"starting the {part} (log: {self.log(part)})")
        (self.home / "pids").mkdir(parents=True, exist_ok=True)
        cwd = self.home / "live" if part == "worker" else self.root
        with self.log(part).open("ab") as log:
            proc = subprocess.Popen(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    start_new_session=True, env={**self.wrangler_env(), "PYTHONPATH": str(self.root)}
                                    if part == "worker" else {**os.environ, "PYTHONUNBUFFERED": "1"})
        (self.home / "pids" / f"{part}.pid").write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SandboxError(f"the {part} exited with {proc.returncode} while starting; see {self.log(part)}")
            if ready():
                return
            time.sleep(0.2)
        raise SandboxError(f"the {part} did not become healthy within {timeout:.0f}s; see {self.log(part)}")

    def _stop(self, part: str) -> None:
        pid = self._pid(part)
        if pid is None:
            return
        try:
            os.killpg(pid, signal.SIGTERM)
        except OSError:
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except OSError:
                break
            time.sleep(0.1)
        else:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        (self.home / "pids" / f"{part}.pid").unlink(missing_ok=True)


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


def _json(url: str) -> Any:
    try:
        return httpx.get(url, timeout=3).json()
    except (httpx.HTTPError, ValueError):
        return None


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
