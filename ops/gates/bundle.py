"""The bundle-size gate: the same figures as wrangler's `Total Upload: X KiB / gzip: Y KiB`.

wrangler sums every module it uploads (additional modules, then the main one;
source maps are not uploaded) and gzips their concatenation with zlib's default
level 6. Limits: 64 MiB uncompressed since the 2026-09 change, and the older
3 MiB (Free) / 10 MiB (Paid) gzip limits, selectable by plan.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.errors import ConfigError, InputError

KIB = 1024
MIB = 1024 * KIB
LIMITS = {"current": ("raw", 64 * MIB), "free": ("gzip", 3 * MIB), "paid": ("gzip", 10 * MIB)}
SKIP = re.compile(r"(\.map$|^README|^\.|\.d\.ts$)")
WARN_AT = 0.8


@dataclass(frozen=True)
class Module:
    name: str
    size: int


@dataclass(frozen=True)
class Bundle:
    modules: tuple[Module, ...]   # additional modules first, the main module last (wrangler's order)
    size: int
    gzip_size: int

    def report(self) -> str:
        return f"{self.size / KIB:.2f} KiB / gzip: {self.gzip_size / KIB:.2f} KiB"


def measure(folder: Path, main: str | None = None) -> Bundle:
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder; pass the --outdir of `wrangler deploy --dry-run`, or use --build")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not SKIP.search(p.name))
    if not files:
        raise InputError(f"{folder}: no modules found; build with `wrangler deploy --dry-run --outdir {folder}`")
    main_path = folder / main if main else _guess_main(folder, files)
    ordered = [p for p in files if p != main_path] + [main_path]
    blobs = [p.read_bytes() for p in ordered]
    joined = b"".join(blobs)
    return Bundle(tuple(Module(str(p.relative_to(folder)), len(b)) for p, b in zip(ordered, blobs)),
                  len(joined), gzip_size(joined))


NODE_GZIP = "process.stdout.write(String(require('zlib').gzipSync(require('fs').readFileSync(0)).length))"


def gzip_size(data: bytes) -> int:
    """zlib.gzipSync's size, from Node itself: its zlib compresses differently from CPython's at the same level."""
    node = shutil.which("node")
    if node:
        done = subprocess.run([node, "-e", NODE_GZIP], input=data, capture_output=True, timeout=60, check=False)
        if done.returncode == 0 and done.stdout.strip().isdigit():
            return int(done.stdout)
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # no Node: CPython's zlib, within a few bytes
    return len(compressor.compress(data) + compressor.flush())


def _guess_main(folder: Path, files: list[Path]) -> Path:
    for name in ("index.js", "worker.js", "index.mjs", "_worker.js"):
        if (folder / name) in files:
            return folder / name
    scripts = [p for p in files if p.suffix in (".js", ".mjs")]
    if len(scripts) == 1:
        return scripts[0]
    raise InputError(f"{folder}: cannot tell the main module among {', '.join(p.name for p in scripts)}; pass --main")


def parse_budget(text: str, plan: str) -> tuple[str, int]:
    """`5MiB`, `gzip:3MiB`, `raw:50MiB`, `80%` (of the plan's limit) or plain bytes."""
    kind, limit = LIMITS[plan]
    value = text.strip()
    if ":" in value:
        kind, value = value.split(":", 1)
        if kind not in ("gzip", "raw"):
            raise InputError(f"--budget {text!r}: the prefix is gzip: or raw:")
    if value.endswith("%"):
        try:
            return kind, int(limit * float(value[:-1]) / 100)
        except ValueError:
            raise InputError(f"--budget {text!r}: write a percentage like 80%") from None
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(B|KiB|KB|MiB|MB)?", value, re.IGNORECASE)
    if not match:
        raise InputError(f"--budget {text!r}: write bytes, KiB or MiB (e.g. 5MiB, gzip:3MiB) or a percentage (80%)")
    unit = {"b": 1, "kib": KIB, "kb": 1000, "mib": MIB, "mb": 1_000_000}[(match.group(2) or "b").lower()]
    return kind, int(float(match.group(1)) * unit)


def evaluate(bundle: Bundle, *, plan: str = "current", budget: str | None = None,
             baseline: dict[str, Any] | None = None, max_growth: float = 0.10) -> list[dict[str, Any]]:
    """Findings (as dicts: severity, code, message) for the bundle against the limit, budget and baseline."""
    findings: list[dict[str, Any]] = []
    kind, limit = LIMITS[plan]
    checks = [("limit", kind, limit)] + ([("budget", *parse_budget(budget, plan))] if budget else [])
    for what, measure_kind, cap in checks:
        used = bundle.gzip_size if measure_kind == "gzip" else bundle.size
        share = used / cap if cap else 0
        label = f"{what} ({measure_kind} {cap / MIB:.2f} MiB{', plan ' + plan if what == 'limit' else ''})"
        if used > cap:
            findings.append({"severity": "error", "code": f"bundle-over-{what}",
                             "message": f"the bundle is {used / KIB:.2f} KiB {measure_kind}, over the {label}; "
                                        f"largest modules: {_largest(bundle)}"})
        elif share >= WARN_AT:
            findings.append({"severity": "warning", "code": f"bundle-near-{what}",
                             "message": f"the bundle uses {share:.0%} of the {label}; largest modules: {_largest(bundle)}"})
    if baseline is not None:
        findings.extend(_against_baseline(bundle, baseline, max_growth))
    return findings


def _largest(bundle: Bundle, count: int = 3) -> str:
    top = sorted(bundle.modules, key=lambda m: m.size, reverse=True)[:count]
    return ", ".join(f"{m.name} {m.size / KIB:.1f} KiB" for m in top)


def _against_baseline(bundle: Bundle, baseline: dict[str, Any], max_growth: float) -> list[dict[str, Any]]:
    before = int(baseline.get("gzip_size") or 0)
    if not before:
        raise ConfigError("the baseline file has no gzip_size; write one with --write-baseline")
    growth = (bundle.gzip_size - before) / before
    old = {m["name"]: int(m["size"]) for m in baseline.get("modules", [])}
    diff = [f"{m.name} {m.size - old.get(m.name, 0):+d} B" for m in bundle.modules if m.size != old.get(m.name, 0)]
    diff += [f"{name} removed" for name in old if name not in {m.name for m in bundle.modules}]
    if growth > max_growth:
        return [{"severity": "error", "code": "bundle-growth",
                 "message": f"gzip size grew {growth:.1%} over the baseline (limit {max_growth:.0%}): {'; '.join(diff) or 'no module changed size'}"}]
    return []


def as_baseline(bundle: Bundle) -> str:
    return json.dumps({"size": bundle.size, "gzip_size": bundle.gzip_size,
                       "modules": [{"name": m.name, "size": m.size} for m in bundle.modules]}, indent=2) + "\n"
