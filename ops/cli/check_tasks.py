"""`inv check.bindings`, `inv check.bundle-size` and `inv check.all`: the pre-deploy gates."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from invoke.collection import Collection
from invoke.exceptions import Exit
from invoke.tasks import task

from ops.cli.boundary import guarded, out

FORMATS = ("text", "json", "github")


def run_bindings(config: str | None, env: str | None, all_envs: bool, remote: bool, target: str | None) -> tuple[list[Any], str]:
    from ops.gates.bindings import ClientLister, check
    from ops.gates.load import load_config
    from ops.gates.lookup import find_config

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
        result = check(loaded, env=env, all_envs=all_envs, remote=lister)
    finally:
        if client is not None:
            client.close()
    return result.findings, str(path)


@task(help={"config": "wrangler.toml/json/jsonc (default: wrangler's lookup upward from here)",
            "env": "The environment to check (default: the top level)", "all_envs": "Check the top level and every env",
            "remote": "Also check that every referenced resource exists in the account (one list call per kind)",
            "strict": "Warnings fail too", "format": "text, json or github", "target": "Target for --remote"},
      auto_shortflags=False)
@guarded
def bindings(c: Any, config: str | None = None, env: str | None = None, all_envs: bool = False, remote: bool = False,
             strict: bool = False, format: str = "text", target: str | None = None) -> None:
    """Check a wrangler config's bindings: what wrangler rejects or warns about, and more."""
    from ops.gates.report import as_json, github, text

    _format(format)
    findings, path = run_bindings(config, env, all_envs, remote, target)
    failed = any(f.severity == "error" for f in findings) or (strict and findings)
    if format == "json":
        out(as_json(findings, not failed))
    elif format == "github":
        out(github(findings, "bindings"))
    else:
        out(text(findings, f"check.bindings {path}"))
    if failed:
        raise Exit(code=1)


@task(name="bundle-size",
      help={"dir": "An already-built output folder (wrangler deploy --dry-run --outdir)",
            "build": "Build first with `wrangler deploy --dry-run --outdir` (config from --config)",
            "config": "The wrangler config to build with --build", "main": "The main module's file name, if not index.js",
            "budget": "e.g. 5MiB, gzip:3MiB, raw:50MiB or 80% of the plan's limit", "plan": "current (64 MiB raw), free (3 MiB gzip) or paid (10 MiB gzip)",
            "baseline": "A baseline JSON; growth past --max-growth fails", "max_growth": "Allowed gzip growth over the baseline (0.10 = 10%)",
            "write_baseline": "Write the measured sizes to this file", "format": "text, json or github"},
      auto_shortflags=False)
@guarded
def bundle_size(c: Any, dir: str | None = None, build: bool = False, config: str | None = None, main: str | None = None,
                budget: str | None = None, plan: str = "current", baseline: str | None = None, max_growth: float = 0.10,
                write_baseline: str | None = None, format: str = "text") -> None:
    """Measure the bundle exactly as wrangler does and hold it to a limit, a budget and a baseline."""
    from ops.errors import InputError
    from ops.gates import bundle as gate

    _format(format)
    if plan not in gate.LIMITS:
        raise InputError(f"--plan {plan!r}: choose current, free or paid")
    folder = Path(dir) if dir else None
    if build:
        folder = _build(config)
    if folder is None:
        raise InputError("give --dir DIR (a built output) or --build")
    measured = gate.measure(folder, main)
    base = _baseline(Path(baseline)) if baseline else None
    findings = gate.evaluate(measured, plan=plan, budget=budget, baseline=base, max_growth=max_growth)
    if write_baseline:
        Path(write_baseline).write_text(gate.as_baseline(measured), encoding="utf-8")
    _report_bundle(measured, findings, format, str(folder))
    if any(f["severity"] == "error" for f in findings):
        raise Exit(code=1)


def _format(value: str) -> None:
    if value not in FORMATS:
        from ops.errors import InputError

        raise InputError(f"--format {value!r}: choose text, json or github")


def _baseline(path: Path) -> dict[str, Any]:
    from ops.errors import ConfigError

    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the baseline: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}:{exc.lineno}:{exc.colno}: not a baseline file: {exc.msg}") from None


def _build(config: str | None) -> Path:
    from ops.actions.wrangler import wrangler_bin
    from ops.errors import InputError
    from ops.gates.lookup import find_config

    path = (Path(config) if config else find_config()).resolve()
    outdir = Path(tempfile.mkdtemp(prefix="bundle-"))
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([wrangler_bin(root), "deploy", "--dry-run", "--outdir", str(outdir), "--config", str(path)],
                          cwd=path.parent, capture_output=True, text=True, check=False,
                          env={**os.environ, "WRANGLER_SEND_METRICS": "false", "CI": "true"})
    if done.returncode != 0:
        raise InputError(f"wrangler deploy --dry-run failed for {path}: {(done.stderr or done.stdout)[-500:]}")
    return outdir


def _report_bundle(measured: Any, findings: list[dict[str, Any]], format: str, folder: str) -> None:
    from ops.gates.report import escape_data, escape_property, write_step_summary
    from ops.gates.result import Finding

    if format == "json":
        out(json.dumps({"ok": not any(f["severity"] == "error" for f in findings), "total_upload": measured.report(),
                        "size": measured.size, "gzip_size": measured.gzip_size,
                        "modules": [{"name": m.name, "size": m.size} for m in measured.modules], "findings": findings}, indent=2))
        return
    if format == "github":
        for f in findings:
            out(f"::{f['severity']} title={escape_property('bundle-size: ' + f['code'])}::{escape_data(f['message'])}")
        write_step_summary([Finding(f["severity"], f["code"], f["message"], folder, 1, 1, "<top>") for f in findings], "bundle size")
        return
    out(f"Total Upload: {measured.report()}  ({len(measured.modules)} module(s) in {folder})")
    for f in findings:
        out(f"{f['severity']}: {f['code']}: {f['message']}")


@task(name="all", help={"config": "The wrangler config", "dir": "A built output folder for the size check (else --build)",
                        "format": "text, json or github"}, auto_shortflags=False)
@guarded
def all_(c: Any, config: str | None = None, dir: str | None = None, format: str = "text") -> None:
    """The spec check, the bindings check (every env) and the bundle-size check, with one combined verdict."""
    from ops.engine.catalog import default_dir
    from ops.engine.check import check_paths

    _format(format)
    spec_problems = [str(p) for r in check_paths([default_dir()]) for p in r.problems]
    findings, path = run_bindings(config, None, True, False, None)
    from ops.gates import bundle as gate

    measured = gate.measure(Path(dir)) if dir else gate.measure(_build(config))
    size_findings = gate.evaluate(measured)
    failed = bool(spec_problems) or any(f.severity == "error" for f in findings) or any(f["severity"] == "error" for f in size_findings)
    if format == "json":
        out(json.dumps({"ok": not failed, "specs": spec_problems, "bindings": [f.as_dict() for f in findings],
                        "bundle": {"total_upload": measured.report(), "findings": size_findings}}, indent=2))
    else:
        from ops.gates.report import text

        out("specs: " + ("ok" if not spec_problems else "\n".join(spec_problems)))
        out(text(findings, f"bindings: {path}"))
        out(f"bundle: Total Upload: {measured.report()}" + "".join(f"\n{f['severity']}: {f['message']}" for f in size_findings))
        out("check.all: " + ("FAILED" if failed else "ok"))
    if failed:
        raise Exit(code=1)


def collection() -> Collection:
    return Collection("check", bindings, bundle_size, all_)
