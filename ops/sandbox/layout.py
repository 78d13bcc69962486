"""Where each part of one sandbox is, and how to reach it: addresses, folders, secrets, wrangler, the Workers' answers.

The lifecycle (``ops.sandbox.manager.Sandbox``) builds on this; the break scenarios
(``ops.sandbox.breaks``) and the D1 seed act through it alone.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import httpx

from ops.errors import InputError, SandboxError
from ops.sandbox import loopback
from ops.sandbox.constants import ACCOUNT_ID, BOOKS, SECRETS, TOKEN, WORKERS, WorkerSpec
from ops.sandbox.ports import Ports

__all__ = ["Layout", "Say", "get_json", "answers", "with_client"]
Say = Callable[[str], None]


@dataclass
class Layout:
    root: Path   # the checkout whose examples/ and node_modules/ the sandbox uses
    home: Path   # the sandbox's own folder (.sandbox/): logs, pids, copies of the Workers, state, its targets file
    ports: Ports
    say: Say = lambda _: None
    token: str = TOKEN  # tests plant a canary here and in the secrets, and scan every output for it
    secrets: dict[str, str] = field(default_factory=lambda: dict(SECRETS))  # the books Worker's
    workers: tuple[WorkerSpec, ...] = WORKERS
    other_secrets: dict[str, dict[str, str]] = field(default_factory=dict)  # by Worker key; default: its spec's
    other_credentials: dict[str, dict[str, str]] = field(default_factory=dict)  # by Worker key; default: its spec's

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

    @property
    def served_workers(self) -> tuple[WorkerSpec, ...]:
        return tuple(w for w in self.workers if w.served)

    def provider_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports.providers()[name]}"

    def log(self, part: str) -> Path:
        return self.home / "logs" / f"{part}.log"

    def wrangler_env(self) -> dict[str, str]:
        # X_LOCAL_OBSERVABILITY: wrangler dev (4.1xx) stores a trace of every request in a local SQLite Durable Object
        # for its dev UI, with an fsync each; the sandbox's logs and analytics come from its own proxy and tail.
        return {**os.environ, "CLOUDFLARE_API_BASE_URL": self.api_base_url, "CLOUDFLARE_ACCOUNT_ID": ACCOUNT_ID,
                "CLOUDFLARE_API_TOKEN": self.token, "WRANGLER_SEND_METRICS": "false", "CI": "true",
                "X_LOCAL_OBSERVABILITY": "false", "X_LOCAL_EXPLORER": "false",
                "HOME": str(self.home / "wrangler-home"), "XDG_CONFIG_HOME": str(self.home / "wrangler-home" / ".config")}

    def client(self) -> Any:
        from ops.cloudflare import CloudflareClient

        return CloudflareClient(ACCOUNT_ID, self.token, base_url=self.api_base_url)

    # --- wrangler -------------------------------------------------------------------------

    def wrangler(self, *args: str, worker: WorkerSpec = BOOKS) -> str:
        """Run wrangler in the sandbox's copy of the Worker, on its env (``--env``), against the emulator."""
        done = subprocess.run([self.wrangler_bin(worker), *args, *worker.wrangler_args()], cwd=self.dir_of(worker),
                              env=self.wrangler_env(), capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            said = re.sub(r"\x1b\[[0-9;]*m", "", done.stderr or done.stdout)  # wrangler colours its errors even in a pipe
            raise SandboxError(f"wrangler {' '.join(args)} failed ({done.returncode}): {said[-600:]}")
        return done.stdout

    def wrangler_bin(self, spec: WorkerSpec = BOOKS) -> str:
        """A Worker's repository's own wrangler (node_modules, OPS_WRANGLER, PATH); else this checkout's pinned one."""
        if spec.source is not None:
            from ops.actions.wrangler import wrangler_bin

            try:
                return wrangler_bin(spec.source)
            except InputError:
                pass
        return str(self.root / "node_modules" / ".bin" / "wrangler")

    # --- what the parts answer --------------------------------------------------------------

    def live_version(self, spec: WorkerSpec = BOOKS) -> str | None:
        live = (get_json(f"{self.emulator_url}/__emulator/live/{spec.script}") or {}).get("version_id")
        return str(live) if live else None

    def served_version(self, spec: WorkerSpec = BOOKS) -> str | None:
        """The version the Worker's wrangler dev runs, from the sandbox's entry shim (not the Worker's code)."""
        version = self.served(spec).get("version_id")
        return str(version) if version else None

    def served(self, spec: WorkerSpec) -> dict[str, Any]:
        body = get_json(f"{self.dev_url_of(spec)}/__sandbox/version")
        return body if isinstance(body, dict) else {}

    def health(self, spec: WorkerSpec = BOOKS, timeout: float = 3) -> dict[str, Any]:
        """What the Worker answers on its health path, asked directly (not through the recording proxy)."""
        try:
            response = loopback.get(f"{self.dev_url_of(spec)}{spec.health_path}", timeout=timeout)
        except httpx.HTTPError:
            return {"healthy": False, "status": None}
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        healthy = response.status_code == spec.health_status
        return {"healthy": healthy, "status": response.status_code,
                **({} if healthy else {"said": response.text[:2000]}),  # the shim answers an exception with its stack
                **({"provider_order": body.get("provider_order")} if "provider_order" in body else {}),
                **({"secrets": body.get("secrets")} if "secrets" in body else {})}

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


def with_client(sandbox: Layout, fn: Callable[[Any], Any]) -> Any:
    client = sandbox.client()
    try:
        return fn(client)
    finally:
        client.close()


def answers(url: str) -> bool:
    """True when ``url`` answers 200."""
    try:
        return loopback.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    try:
        return loopback.get(url, headers=headers, timeout=3).json()
    except (httpx.HTTPError, ValueError):
        return None
