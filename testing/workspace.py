"""The isolated workspace the tests run `inv` in (its own targets, specs, journal and cache), and the canary
planted in every secret the tests hand out; the fixtures that build them are in tests/conftest.py."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / ".venv-tools" / "bin"  # mkdocs and lint-imports, apart from .venv (pyproject.toml says why)
CANARY = "canary-5f0e1d2c-DO-NOT-LEAK-7a9b"
# The session sandbox runs with a canary in every secret input: its API token and the
# Worker's secrets (which are also the target's env defaults for secret params).
SANDBOX_TOKEN = f"{CANARY}-api-token"
SANDBOX_SECRETS = {"CACHE_WARM_SECRET": f"{CANARY}-warm", "JWT_SECRET": f"{CANARY}-jwt",
                   "GEMINI_API_KEY": f"{CANARY}-gemini", "ISBNDB_API_KEY": f"{CANARY}-isbndb",
                   "GOOGLE_BOOKS_API_KEY": f"{CANARY}-google-books"}
SANDBOX_OTHER_SECRETS = {"plain": {"API_KEY": f"{CANARY}-plain-api-key"}}  # the plain Worker's



@dataclass
class Workspace:
    root: Path
    env: dict[str, str]

    @property
    def specs(self) -> Path:
        return self.root / "remediations"

    @property
    def journal(self) -> Path:
        return self.root / "journal"

    def add_spec(self, source: Path | str, name: str | None = None) -> Path:
        dest = self.specs / (name or Path(source).name)
        if isinstance(source, Path):
            shutil.copy(source, dest)
        else:
            dest.write_text(source, encoding="utf-8")
        return dest

    def inv(self, *args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "invoke", "--search-root", str(REPO), *args],
                              capture_output=True, text=True, env=self.env, input=input, timeout=timeout,
                              cwd=self.root)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        """`inv` running, to signal: Ctrl-C reaches it even when this suite runs as a background job, which a
        non-interactive shell starts with SIGINT ignored (and a child inherits that)."""
        return subprocess.Popen([sys.executable, "-m", "invoke", "--search-root", str(REPO), *args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self.env, cwd=self.root,
                                preexec_fn=_default_sigint)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def make_workspace(root: Path, worker_url: str, api_base_url: str = "http://127.0.0.1:9/client/v4") -> Workspace:
    (root / "remediations").mkdir(parents=True, exist_ok=True)
    targets = root / "targets.toml"
    targets.write_text(
        'default = "test"\n[targets.test]\n'
        f'api_base_url = "{api_base_url}"\naccount_id = "5a4db0c5000000000000000000000000"\n'
        f'token = "{CANARY}-token"\nworker = "api-worker"\nworker_url = "{worker_url}"\n',
        encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPS_")}
    env.update({
        "OPS_TARGETS_FILE": str(targets), "OPS_REMEDIATIONS_DIR": str(root / "remediations"),
        "OPS_JOURNAL_DIR": str(root / "journal"), "OPS_CACHE_DIR": str(root / "cache"),
        "TEST_TOKEN": CANARY, "PYTHONDONTWRITEBYTECODE": "1",
    })
    return Workspace(root, env)


