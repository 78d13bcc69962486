"""Gates: check.bindings over the repo's corpus (every env, one process; target < 2 s); check.bundle-size --dir
against the `python -c "import invoke"` floor (target within 1.5x) and against `wrangler deploy --dry-run` on the
example Worker, all in the same run."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import PYTHON, REPO, quick, ratio, summary, time_command, write_result  # noqa: E402

CORPUS = REPO / "tests" / "gates" / "corpus"


def corpus_seconds() -> tuple[float, int]:
    from ops.documents.problem import DocumentError
    from ops.gates.bindings import check
    from ops.documents.config import load_config

    started = time.perf_counter()
    count = 0
    for case in sorted((CORPUS / "cases").iterdir()):
        try:
            check(load_config(next(case.glob("wrangler.*"))), all_envs=True)
        except DocumentError:
            pass  # unparseable on purpose: wrangler rejects it too
        count += 1
    return time.perf_counter() - started, count


def interleaved(commands: dict[str, list[str]], runs: int) -> dict[str, dict[str, Any]]:
    """Time the commands in turn, round after round, so that load on a shared machine hits them alike."""
    import subprocess

    samples: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(runs + 1):
        for name, argv in commands.items():
            started = time.perf_counter()
            done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
            took = (time.perf_counter() - started) * 1000
            if done.returncode != 0:
                raise SystemExit(f"benchmark command failed ({done.returncode}): {' '.join(argv)}\n{done.stderr[-2000:]}")
            if round_:  # the first round warms the caches
                samples[name].append(took)
    return {name: summary(values) for name, values in samples.items()}


def main() -> None:
    runs = 5 if quick() else 21
    figures = []
    data: dict[str, object] = {}
    times = sorted(corpus_seconds()[0] for _ in range(3 if quick() else 9))
    median = times[len(times) // 2]
    count = len(list((CORPUS / "cases").iterdir()))
    data["corpus_seconds_median"] = round(median, 3)
    figures.append({"what": f"check.bindings, {count} corpus configs, every env, one process", "value": f"{median:.3f} s",
                    "met": median < 2})
    work = Path(tempfile.mkdtemp(prefix="bench-gates-"))
    project = work / "w"
    shutil.copytree(REPO / "examples" / "books-worker", project, ignore=shutil.ignore_patterns(".wrangler"))
    env = {**os.environ, "WRANGLER_SEND_METRICS": "false", "CI": "true", "HOME": str(work / "home")}
    wrangler = time_command([str(REPO / "node_modules/.bin/wrangler"), "deploy", "--dry-run", "--outdir", str(work / "out")],
                            runs=max(3, runs // 3), env=env, cwd=project)
    inv = [PYTHON, "-m", "invoke", "--search-root", str(REPO), "check.bundle-size", "--dir", str(work / "out")]
    timed = interleaved({"floor": [PYTHON, "-c", "import invoke"], "ours": inv, "exact": [*inv, "--exact"]}, runs)
    floor, ours, exact = timed["floor"], timed["ours"], timed["exact"]
    over_floor = ratio(ours["median_ms"], floor["median_ms"])
    speedup = ratio(wrangler["median_ms"], ours["median_ms"])
    data.update({"wrangler_dry_run": wrangler, "import_invoke": floor, "bundle_size_dir": ours, "bundle_size_dir_exact": exact})
    figures.append({"what": 'inv check.bundle-size --dir / python -c "import invoke"', "value": f"{over_floor}x "
                    f"({ours['median_ms']:.0f} ms vs {floor['median_ms']:.0f} ms; --exact {exact['median_ms']:.0f} ms)",
                    "met": over_floor <= 1.5})
    figures.append({"what": "wrangler deploy --dry-run / inv check.bundle-size --dir", "value": f"{speedup}x", "met": speedup >= 10})
    shutil.rmtree(work, ignore_errors=True)
    print(write_result("gates", {**data, "figures": figures}))
    for figure in figures:
        print(f"{figure['what']}: {figure['value']} ({'met' if figure['met'] else 'missed'})")


if __name__ == "__main__":
    main()
