"""`inv check.bindings`, `inv check.bundle-size` and `inv check.all`: the pre-deploy gates.

Every gate returns an ``ops.gates.result.Result`` and goes through the same reporters
(``ops.gates.report``: text, json, github); `check.all` merges the three results into one.
Imports stay inside the tasks: `check.bundle-size --dir` is the path CI runs most.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from invoke.collection import Collection
from invoke.exceptions import Exit
from invoke.tasks import task

from ops.cli.boundary import guarded, out

if TYPE_CHECKING:
    from ops.gates.result import Result

FORMATS = ("text", "json", "github")


def run_bindings(config: str | None, env: str | None, all_envs: bool, remote: bool, target: str | None,
                 wrangler_version: str | None = None) -> Result:
    from ops.gates.bindings import ClientLister, check
    from ops.documents.config import load_config
    from ops.documents.wrangler_config import find_config
    from ops.gates.schema import choose_schema

    path = Path(config) if config else find_config()
    loaded = load_config(path)
    lister = None
    client = None
    if remote:
        from ops.cloudflare import CloudflareClient

        if target or not os.environ.get("CLOUDFLARE_API_TOKEN"):
            from ops.targets import load_target

            client = CloudflareClient.from_target(load_target(target), read_only=True)
        else:
            client = CloudflareClient.from_env(read_only=True)
        lister = ClientLister(client)
    try:
        return check(loaded, env=env, all_envs=all_envs, remote=lister, schema=choose_schema(path, wrangler_version))
    finally:
        if client is not None:
            client.close()


def report(result: Result, format: str, title: str, header: str, strict: bool = False) -> None:
    """Print ``result`` in ``format`` and exit 1 when it fails (warnings too with ``strict``)."""
    from ops.gates.report import as_json, github, text

    if format == "json":
        out(as_json(result, strict))
    elif format == "github":
        out(github(result, title))
    else:
        out(text(result, header, strict))
    if not result.ok(strict):
        raise Exit(code=1)


@task(help={"config": "wrangler.toml/json/jsonc (default: wrangler's lookup upward from here)",
            "env": "The environment to check with the top level (default: the top level only)",
            "all_envs": "Check the top level and every env",
            "remote": "Also check that every referenced resource exists in the account (one list call per kind)",
            "strict": "Warnings fail too", "format": "text, json or github", "target": "Target for --remote",
            "wrangler_version": "Follow this wrangler version's schema (default: the one the config's repository uses)"},
      auto_shortflags=False)
@guarded
def bindings(c: Any, config: str | None = None, env: str | None = None, all_envs: bool = False, remote: bool = False,
             strict: bool = False, format: str = "text", target: str | None = None, wrangler_version: str | None = None) -> None:
    """Check a wrangler config: wrangler's schema, wrangler's rules, and our own checks."""
    _format(format)
    result = run_bindings(config, env, all_envs, remote, target, wrangler_version)
    report(result, format, "bindings", f"check.bindings {result.checked[0] if result.checked else config}", strict)


def run_bundle(dir: str | None, build: bool, config: str | None, main: str | None, budget: str | None, plan: str,
               baseline: str | None, max_growth: float, write_baseline: str | None, exact: bool) -> Result:
    from ops.errors import InputError
    from ops.gates import bundle as gate

    if plan not in gate.LIMITS:
        raise InputError(f"--plan {plan!r}: choose current, free or paid")
    if not build and not dir:
        raise InputError("give --dir DIR (a built output) or --build")
    base = _baseline(Path(baseline)) if baseline else None
    folder = _build(config) if build else Path(str(dir))
    try:
        measured, result = gate.check(folder, main=main, plan=plan, budget=budget, baseline=base, max_growth=max_growth,
                                      exact_gzip=exact or bool(write_baseline))
    finally:
        if build:  # the build's temporary folder
            shutil.rmtree(folder, ignore_errors=True)
    if write_baseline:
        Path(write_baseline).write_text(gate.as_baseline(measured), encoding="utf-8")
    return result


@task(name="bundle-size",
      help={"dir": "An already-built output folder (wrangler deploy --dry-run --outdir)",
            "build": "Build first with `wrangler deploy --dry-run --outdir` (config from --config)",
            "config": "The wrangler config to build with --build", "main": "The main module's file name, if not index.js",
            "budget": "e.g. 5MiB, gzip:3MiB, raw:50MiB or 80% of the plan's limit", "plan": "current (64 MiB raw), free (3 MiB gzip) or paid (10 MiB gzip)",
            "baseline": "A baseline JSON; growth past --max-growth fails", "max_growth": "Allowed gzip growth over the baseline (0.10 = 10%)",
            "write_baseline": "Write the measured sizes to this file (exact gzip figure)",
            "exact": "Always ask node for wrangler's exact gzip figure (default: only near a gzip threshold)",
            "format": "text, json or github"},
      auto_shortflags=False)
@guarded
def bundle_size(c: Any, dir: str | None = None, build: bool = False, config: str | None = None, main: str | None = None,
                budget: str | None = None, plan: str = "current", baseline: str | None = None, max_growth: float = 0.10,
                write_baseline: str | None = None, exact: bool = False, format: str = "text") -> None:
    """Measure the bundle as wrangler does and hold it to a limit, a budget and a baseline."""
    _format(format)
    result = run_bundle(dir, build, config, main, budget, plan, baseline, max_growth, write_baseline, exact)
    report(result, format, "bundle size", f"check.bundle-size {result.checked[0]}")


def _format(value: str) -> None:
    if value not in FORMATS:
        from ops.errors import InputError

        raise InputError(f"--format {value!r}: choose text, json or github")


def _baseline(path: Path) -> dict[str, Any]:
    import json

    from ops.errors import ConfigError

    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the baseline: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}:{exc.colno}: not a baseline file: {exc.msg}") from None


def _build(config: str | None) -> Path:
    import subprocess
    import tempfile

    from ops.actions.wrangler import wrangler_bin
    from ops.errors import InputError
    from ops.documents.wrangler_config import find_config

    path = (Path(config) if config else find_config()).resolve()
    wrangler = wrangler_bin(path.parent)  # the Worker's own, found as the sandbox finds it
    outdir = Path(tempfile.mkdtemp(prefix="bundle-"))
    done = subprocess.run([wrangler, "deploy", "--dry-run", "--outdir", str(outdir), "--config", str(path)],
                          cwd=path.parent, capture_output=True, text=True, check=False,
                          env={**os.environ, "WRANGLER_SEND_METRICS": "false", "CI": "true"})
    if done.returncode != 0:
        shutil.rmtree(outdir, ignore_errors=True)
        raise InputError(f"wrangler deploy --dry-run failed for {path}: {(done.stderr or done.stdout)[-500:]}")
    return outdir


def run_specs() -> Result:
    from ops.engine.catalog import default_dir
    from ops.engine.check import check_paths
    from ops.gates.result import Finding, Result

    result = Result(checked=[str(default_dir())])
    for checked in check_paths([default_dir()]):
        result.findings += [Finding("error", "spec-invalid", f"{p.path}: {p.message}", p.file, p.line, p.col, "<top>",
                                    {"layer": "specs"}) for p in checked.problems]
    return result


@task(name="all", help={"config": "The wrangler config", "dir": "A built output folder for the size check (else --build)",
                        "format": "text, json or github", "strict": "Warnings fail too"}, auto_shortflags=False)
@guarded
def all_(c: Any, config: str | None = None, dir: str | None = None, format: str = "text", strict: bool = False) -> None:
    """The spec check, the bindings check (every env) and the bundle-size check, as one combined result."""
    _format(format)
    result = run_specs().merge(run_bindings(config, None, True, False, None))
    result = result.merge(run_bundle(dir, not dir, config, None, None, "current", None, 0.10, None, False))
    report(result, format, "check.all", "check.all: specs, bindings (every env), bundle size", strict)


def collection() -> Collection:
    return Collection("check", bindings, bundle_size, all_)
