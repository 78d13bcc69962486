"""The bundle-size gate: the same figures as wrangler's `Total Upload: X KiB / gzip: Y KiB`.

wrangler sums every module it uploads (additional modules, then the main one;
source maps are not uploaded) and gzips their concatenation with zlib's default
level 6. Limits: 64 MiB uncompressed since the 2026-09 change, and the older
3 MiB (Free) / 10 MiB (Paid) gzip limits, selectable by plan.

The gzip size is first computed in-process with CPython's zlib, which differs
from Node's (wrangler's) by up to 1.5% on real bundles (measured on node_modules
JavaScript, see the README). Only when that estimate is within ``MARGIN`` of a
gzip threshold that decides a finding (a gzip limit or budget, its warning
level, the baseline's growth limit), or with ``exact=True``, does the gate ask
``node`` for wrangler's exact figure; the result says which one it used.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ops.errors import ConfigError, InputError
from ops.gates.result import Finding, Result

KIB = 1024
MIB = 1024 * KIB
LIMITS = {"current": ("raw", 64 * MIB), "free": ("gzip", 3 * MIB), "paid": ("gzip", 10 * MIB)}
SKIP = re.compile(r"(\.map$|^README|^\.|\.d\.ts$)")
WARN_AT = 0.8
MARGIN = 0.03   # relative distance to a gzip threshold under which the in-process estimate is not trusted
MARGIN_MIN = 1024


@dataclass(frozen=True)
class Module:
    name: str
    size: int


@dataclass(frozen=True)
class Bundle:
    modules: tuple[Module, ...]   # additional modules first, the main module last (wrangler's order)
    size: int
    gzip_size: int
    gzip_exact: bool = True       # False: CPython's zlib, an estimate within 1.5% of wrangler's figure
    data: bytes = field(default=b"", repr=False, compare=False)

    def report(self) -> str:
        return f"{self.size / KIB:.2f} KiB / gzip: {self.gzip_size / KIB:.2f} KiB"

    def gzip_method(self, wanted_exact: bool) -> str:
        if self.gzip_exact:
            return "node zlib.gzipSync (wrangler's exact figure)"
        why = "node was not found" if wanted_exact else "no gzip threshold was near"
        return f"CPython zlib in-process (an estimate within 1.5% of wrangler's; {why})"


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
                  len(joined), python_gzip_size(joined), gzip_exact=False, data=joined)


NODE_GZIP = "process.stdout.write(String(require('zlib').gzipSync(require('fs').readFileSync(0)).length))"


def python_gzip_size(data: bytes) -> int:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    return len(compressor.compress(data) + compressor.flush())


def exact(bundle: Bundle) -> Bundle:
    """The bundle with zlib.gzipSync's size, from Node itself (its zlib compresses differently from CPython's)."""
    node = shutil.which("node")
    if bundle.gzip_exact or not node:
        return bundle
    done = subprocess.run([node, "-e", NODE_GZIP], input=bundle.data, capture_output=True, timeout=60, check=False)
    if done.returncode != 0 or not done.stdout.strip().isdigit():
        return bundle
    return replace(bundle, gzip_size=int(done.stdout), gzip_exact=True)


def gzip_thresholds(plan: str, budget: str | None, baseline: dict[str, Any] | None, max_growth: float) -> list[int]:
    """The gzip sizes at which a finding appears or changes."""
    caps = [cap for kind, cap in [LIMITS[plan], *([parse_budget(budget, plan)] if budget else [])] if kind == "gzip"]
    found = [point for cap in caps for point in (cap, int(cap * WARN_AT))]
    if baseline is not None and baseline.get("gzip_size"):
        found.append(int(int(baseline["gzip_size"]) * (1 + max_growth)))
    return found


def near(size: int, thresholds: list[int]) -> bool:
    return any(abs(size - point) <= max(MARGIN * point, MARGIN_MIN) for point in thresholds)


def check(folder: Path, *, main: str | None = None, plan: str = "current", budget: str | None = None,
          baseline: dict[str, Any] | None = None, max_growth: float = 0.10, exact_gzip: bool = False) -> tuple[Bundle, Result]:
    """Measure the bundle in ``folder`` and hold it to the plan's limit, a budget and a baseline."""
    bundle = measure(folder, main)
    wanted = exact_gzip or near(bundle.gzip_size, gzip_thresholds(plan, budget, baseline, max_growth))
    if wanted:
        bundle = exact(bundle)
    result = Result(checked=[str(folder)])
    for item in evaluate(bundle, plan=plan, budget=budget, baseline=baseline, max_growth=max_growth):
        result.findings.append(Finding(item["severity"], item["code"], item["message"], str(folder), 0, 0, "<top>",
                                       {"layer": "bundle"}))
    result.notes.append(f"bundle: Total Upload: {bundle.report()} ({len(bundle.modules)} module(s) in {folder}); "
                        f"gzip by {bundle.gzip_method(wanted)}")
    result.facts["bundle"] = {"total_upload": bundle.report(), "size": bundle.size, "gzip_size": bundle.gzip_size,
                              "gzip_exact": bundle.gzip_exact, "modules": [{"name": m.name, "size": m.size} for m in bundle.modules]}
    return bundle, result


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
