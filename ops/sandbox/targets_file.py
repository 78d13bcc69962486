"""The sandbox's own targets file, ``<home>/targets.toml``: one target per Worker, on the ports this sandbox holds.

The repository's targets.toml names no sandbox target; ``ops.targets.load_target`` finds
them here (``.sandbox/targets.toml`` beside it), or ``OPS_TARGETS_FILE`` names this file.
"""

from __future__ import annotations

import json
from pathlib import Path

from ops.sandbox.constants import ACCOUNT_ID, TOKEN, WorkerSpec
from ops.sandbox.layout import Layout
from ops.sandbox.ports import BASE_VARIABLE

__all__ = ["write_targets"]

# The emulator's analytics have no ingestion delay and no GraphQL quota: a verification may read them at each of
# its polls, so a rehearsal decides as soon as its evidence is in rather than every 15 s (production's default).
ANALYTICS_INTERVAL = 2


def write_targets(sandbox: Layout) -> Path:
    """Write the file; the first Worker's target (books, or a team's own) is its default."""
    path = sandbox.home / "targets.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (f"# Written by `inv sandbox.up` for this sandbox (ports from {sandbox.ports.base}, {BASE_VARIABLE}); "
              "rewritten by each up.\n")
    path.write_text(header + f'default = "{sandbox.first.target}"\n'
                    + "".join(_target(sandbox, spec) for spec in sandbox.workers), encoding="utf-8")
    return path


def _target(sandbox: Layout, spec: WorkerSpec) -> str:
    env = {**sandbox.secrets_of(spec), **sandbox.credentials_of(spec)}
    secrets = ", ".join(f"{k} = {json.dumps(v)}" for k, v in env.items())
    popular = sandbox.dir_of(spec) / "popular-keys.txt"
    return (f'\n[targets.{spec.target}]\n'
            + (f'description = {json.dumps(spec.description)}\n' if spec.description else "")
            + f'root = {json.dumps(str(spec.source or sandbox.root))}\napi_base_url = "{sandbox.api_base_url}"\n'
            f'account_id = "{ACCOUNT_ID}"\ntoken = {json.dumps(sandbox.token)}\n'
            f'token_is_public = {str(sandbox.token == TOKEN).lower()}\n'
            f'worker = "{spec.script}"\nworker_url = "{sandbox.url_of(spec)}"\n'
            f'wrangler_config = {json.dumps(str(sandbox.config_of(spec)))}\n'
            + (f'wrangler_env = {json.dumps(spec.env)}\n' if spec.env else "")
            + (f'popular_keys = {json.dumps(str(popular))}\n' if (sandbox.source_of(spec) / "popular-keys.txt").exists() else "")
            + (f'health = {spec.health}\n' if spec.health else "")
            + f'env = {{ {secrets} }}\n'
            + f'secrets = {json.dumps(sorted(sandbox.secrets_of(spec)))}\n'
            + f'analytics_interval = {ANALYTICS_INTERVAL:g}\n'
            + spec.settings.format(target=spec.target))
