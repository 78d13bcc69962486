"""The diagnosis confusion matrix: every sandbox Worker healthy, then every break scenario on every Worker it applies to.

For each row: reset the sandbox, induce the scenario (none for a healthy row), run
`inv diagnose --json` on the Worker's target, and record the exit code, the first
suggestion and every remediation flagged as a symptom. A row is right when a healthy
Worker exits 0 with no symptom, and when a broken one names the scenario's remediation
first and flags no other remediation as a symptom (consequences are listed apart). Then every command the
diagnosis printed is run as printed (a remediation as a plan): the first must plan (exit 0), and none may be bad
input for that target (exit 2) or fail to parse.

    python bench/diagnosis_matrix.py            # all rows, a Markdown table, and bench/results/diagnosis_matrix.json
    python bench/diagnosis_matrix.py --only bad-deploy,healthy
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import PYTHON, REPO, write_result  # noqa: E402

SERVED = ("books", "plain", "ai", "manuscript", "infra")
QUOTED = re.compile(r"`(inv [^`]+)`")  # a command a finding's detail or evidence quotes


def rows() -> list[tuple[str, str]]:
    from ops.sandbox.breaks import SCENARIOS
    from ops.sandbox.constants import WORKERS

    served = [w for w in WORKERS if w.key in SERVED]
    cases = [("healthy", w.key) for w in served]
    cases += [(s.name, w.key) for s in SCENARIOS for w in s.workers if w.key in SERVED]
    return cases


def diagnose(handle: Any, target: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run([PYTHON, "-m", "invoke", "--search-root", str(REPO), "diagnose", "--json"],
                          capture_output=True, text=True, env=handle.ops_env(OPS_TARGET=target), cwd=handle.home,
                          timeout=300)
    try:
        return done.returncode, json.loads(done.stdout)
    except json.JSONDecodeError:
        return done.returncode, {"error": (done.stdout + done.stderr)[-400:]}


def judge(scenario: str, expected: str | None, code: int, result: dict[str, Any]) -> dict[str, Any]:
    findings = result.get("findings") or []
    symptoms = sorted({f["remediation"] for f in findings if f["status"] == "symptom"})
    first = (result.get("diagnosis") or {}).get("remediation")
    if first is None and symptoms:  # a diagnosis without a ranking: the first symptom listed
        first = next(f["remediation"] for f in findings if f["status"] == "symptom")
    consequences = sorted({c["remediation"] for c in (result.get("diagnosis") or {}).get("consequences", [])})
    others = [s for s in symptoms if s not in (expected, *consequences)]
    if expected is None:
        right = code == 0 and not symptoms
    else:
        right = first == expected and not others
    return {"scenario": scenario, "expected": expected or "nothing wrong", "exit": code, "first": first or "-",
            "symptoms": symptoms, "consequences": consequences, "right": right,
            "unknown": sorted({f["remediation"] for f in findings if f["status"] == "unknown"})}


def suggestions(result: dict[str, Any]) -> list[str]:
    """Every command a diagnosis prints: "Run first:", "then …" of the other findings, the table's suggested command
    of each symptom and unknown, and any `inv …` its evidence or details quote."""
    ranked = result.get("diagnosis") or {}
    found = [ranked.get("command") or "", *(o.get("command") or "" for o in ranked.get("others") or []),
             *(f.get("command") or "" for f in result.get("findings") or [] if f.get("status") != "healthy")]
    found += QUOTED.findall(json.dumps([ranked, result.get("findings")]))
    return [c for c in dict.fromkeys(found) if c.startswith("inv ")]


def run_suggestion(handle: Any, target: str, command: str) -> dict[str, Any]:
    """Run one printed command as printed, a remediation as a plan (--dry-run); a watch (`inv logs`) for 1 s.
    ``runs``: it parsed, and it planned (0) or said why not (3), never bad input (2) or a crash."""
    try:
        argv = shlex.split(command)[1:]
    except ValueError as exc:
        return {"command": command, "exit": None, "runs": False, "said": f"does not parse: {exc}"}
    if argv and argv[0].startswith("remediate.") and "--dry-run" not in argv:
        argv.append("--dry-run")
    if argv and argv[0] == "logs" and "--seconds" not in argv:
        argv += ["--seconds", "1"]
    done = subprocess.run([PYTHON, "-m", "invoke", "--search-root", str(REPO), *argv], capture_output=True, text=True,
                          env=handle.ops_env(OPS_TARGET=target), cwd=handle.home, timeout=300)
    said = (done.stdout + done.stderr).strip().splitlines()
    return {"command": command, "exit": done.returncode, "runs": done.returncode in (0, 3) and "{{" not in command,
            "said": said[-1] if said else ""}


def run_row(handle: Any, scenario: str, key: str) -> dict[str, Any]:
    """Reset, break (unless healthy), diagnose the Worker's target, and judge the answer."""
    from ops.sandbox.breaks import find
    from ops.sandbox.constants import WORKERS

    spec = next(w for w in WORKERS if w.key == key)
    handle.sandbox.reset()
    expected = None
    if scenario != "healthy":
        handle.sandbox.break_(scenario, key)
        expected = find(scenario).remediation
    started = time.monotonic()
    code, result = diagnose(handle, spec.target)
    seconds = round(time.monotonic() - started, 1)
    ran = [run_suggestion(handle, spec.target, c) for c in suggestions(result)]
    row = {"worker": key, **judge(scenario, expected, code, result), "seconds": seconds, "suggestions": ran}
    first = (result.get("diagnosis") or {}).get("command")
    row["suggestions_run"] = all(s["runs"] for s in ran) and all(s["exit"] == 0 for s in ran if s["command"] == first)
    return row


def main() -> int:
    from ops.sandbox.constants import WORKERS
    from testing.sandbox import SandboxHandle

    only = next((a.split("=", 1)[1] if "=" in a else sys.argv[sys.argv.index(a) + 1]
                 for a in sys.argv[1:] if a.startswith("--only")), "")
    cases = [c for c in rows() if not only or c[0] in only.split(",")]
    workers = tuple(w for w in WORKERS if w.key in SERVED)
    handle = SandboxHandle(workers=workers)
    results = []
    try:
        for scenario, key in cases:
            row = run_row(handle, scenario, key)
            results.append(row)
            print(json.dumps(row), flush=True)
    finally:
        handle.stop()
    right = sum(r["right"] and r["suggestions_run"] for r in results)
    print(f"\n| Worker | scenario | expected | first suggestion | exit | other symptoms | suggestions run | right |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        others = [s for s in r["symptoms"] if s not in (r["first"], *r["consequences"])]
        print(f"| {r['worker']} | {r['scenario']} | {r['expected']} | {r['first']} | {r['exit']} | "
              f"{', '.join(others) or '-'} | {len(r['suggestions'])}, {'all' if r['suggestions_run'] else '**not all**'} | "
              f"{'yes' if r['right'] else '**no**'} |")
    print(f"\n{right} of {len(results)} rows right")
    write_result("diagnosis_matrix", {"rows": results, "right": right, "total": len(results)})
    return 0 if right == len(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
