"""Gates: check.bindings over the whole conformance corpus (every env, one process; target < 2 s), and
check.bundle-size --dir against `wrangler deploy --dry-run` on the example Worker (target >= 10x faster)."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import PYTHON, REPO, quick, ratio, time_command, write_result  # noqa: E402

CORPUS = REPO.parent / "shared" / "conformance" / "wrangler-configs"


def corpus_seconds() -> tuple[float, int]:
    from ops.gates.bindings import check
    from ops.gates.load import load_config

    started = time.perf_counter()
    count = 0
    for case in sorted((CORPUS / "cases").iterdir()):
        config = load_config(next(case.glob("wrangler.*")))
        check(config, all_envs=True)
        count += 1
    return time.perf_counter() - started, count


def main() -> None:
    runs = 3 if quick() else 9
    figures = []
    data: dict[str, object] = {}
    if CORPUS.exists():
        times = sorted(corpus_seconds()[0] for _ in range(runs))
        median = times[len(times) // 2]
        data["corpus_seconds_median"] = round(median, 3)
        figures.append({"what": "check.bindings, 61 corpus configs, every env, one process", "value": f"{median:.3f} s", "met": median < 2})
    work = Path(tempfile.mkdtemp(prefix="bench-gates-"))
    project = work / "w"
    shutil.copytree(REPO / "examples" / "books-worker", project, ignore=shutil.ignore_patterns(".wrangler"))
    env = {**os.environ, "WRANGLER_SEND_METRICS": "false", "CI": "true", "HOME": str(work / "home")}
    wrangler = time_command([str(REPO / "node_modules/.bin/wrangler"), "deploy", "--dry-run", "--outdir", str(work / "out")],
                            runs=runs, env=env, cwd=project)
    ours = time_command([PYTHON, "-m", "invoke", "--search-root", str(REPO), "check.bundle-size", "--dir", str(work / "out")],
                        runs=runs)
    speedup = ratio(wrangler["median_ms"], ours["median_ms"])
    data.update({"wrangler_dry_run": wrangler, "bundle_size_dir": ours})
    figures.append({"what": "wrangler deploy --dry-run / inv check.bundle-size --dir", "value": f"{speedup}x", "met": speedup >= 10})
    shutil.rmtree(work, ignore_errors=True)
    print(write_result("gates", {**data, "figures": figures}))
    for figure in figures:
        print(f"{figure['what']}: {figure['value']} ({'met' if figure['met'] else 'missed'})")


if __name__ == "__main__":
    main()
