"""The strangers' corpus: Cloudflare's own templates, each rehearsed as a new user would in its repository.

Per Worker of tests/corpus/corpus.toml, one at a time: a temporary repository made from
its create-cloudflare template (plus its documented overlay), the tool installed from
this checkout non-editable, and `sandbox.up` → `diagnose` → `bad-deploy` → rollback →
`worker-hang` → rollback → the breaks that apply → `check.all` → `sandbox.down`
(testing/corpus.py). Prints a Markdown table (Worker × step → result, exit code,
seconds) and writes bench/results/corpus.json and corpus.md.

    python bench/corpus.py                       # every Worker (about 30 minutes on two shared cores)
    python bench/corpus.py --only corpus-queues,corpus-assets
    python bench/corpus.py --keep                # keep the temporary repositories, to look inside
    python bench/corpus.py --docs                # and write the results into docs/corpus.md
    python bench/corpus.py --docs-only           # write docs/corpus.md from the last run's bench/results/corpus.json
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import RESULTS, write_result  # noqa: E402
from testing import corpus  # noqa: E402
from testing.worker_repo import install  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated Worker names from tests/corpus/corpus.toml")
    parser.add_argument("--keep", action="store_true", help="keep the temporary repositories")
    parser.add_argument("--docs", action="store_true", help="write the results into docs/corpus.md")
    parser.add_argument("--docs-only", action="store_true",
                        help="write docs/corpus.md from the last run (bench/results/corpus.json), running nothing")
    args = parser.parse_args(argv)
    if args.docs_only:
        last = RESULTS / "corpus.json"
        if not last.is_file():
            print(f"{last}: no run saved yet; run python bench/corpus.py --docs", file=sys.stderr)
            return 2
        return write_docs(json.loads(last.read_text(encoding="utf-8")))
    manifest = corpus.load()
    chosen = [w for w in manifest.workers if not args.only or w.name in args.only.split(",")]
    unknown = set(filter(None, args.only.split(","))) - {w.name for w in manifest.workers}
    if unknown:
        print(f"tests/corpus/corpus.toml has no Worker named {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="cfw-corpus-"))
    started, began = time.monotonic(), datetime.now(timezone.utc).isoformat(timespec="seconds")
    package = corpus.templates(manifest)
    bin_ = install(root / "install")
    print(f"{manifest.package}@{manifest.version} at {package}; the tool installed in {time.monotonic() - started:.0f}s",
          flush=True)
    results: dict[str, list[corpus.Outcome]] = {}
    saved: dict[str, Any] = {}
    for entry in chosen:
        print(f"{entry.name} ({entry.template}: {', '.join(entry.bindings)})", flush=True)
        try:
            repo = corpus.make_repo(entry, manifest, package, root)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            results[entry.name] = corpus.unmade(exc)
            print(f"  {results[entry.name][0].detail}", flush=True)
        else:
            results[entry.name] = corpus.rehearse(repo, bin_, log=lambda line: print(line, flush=True))
        saved = save(manifest, results, started, began)  # as it goes: a run cut short keeps what it found
    rendered = corpus.table(results)
    print("\n" + rendered)
    failed = corpus.failures(results)
    if failed:
        print("\nFailures:\n" + "\n".join(f"- {line}" for line in failed))
    if args.docs:
        write_docs(saved)
    if not args.keep:
        import shutil

        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"repositories kept in {root}")
    return 1 if failed else 0


def save(manifest: corpus.Manifest, results: dict[str, list[corpus.Outcome]], started: float, began: str) -> dict[str, Any]:
    command = " ".join(["python", "bench/corpus.py", *map(shlex.quote, sys.argv[1:])])
    path = write_result("corpus", {"command": command, "began": began, "package": f"{manifest.package}@{manifest.version}",
                                   "seconds": round(time.monotonic() - started),
                                   "workers": {name: [vars(o) for o in outcomes] for name, outcomes in results.items()}})
    (RESULTS / "corpus.md").write_text(corpus.table(results) + "\n", encoding="utf-8")
    saved: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return saved


def write_docs(saved: dict[str, Any]) -> int:
    """docs/corpus.md's results block, from a run as saved in bench/results/corpus.json."""
    results = {name: [corpus.Outcome(**o) for o in outcomes] for name, outcomes in saved["workers"].items()}
    block = corpus.results_block(results, command=saved.get("command", "python bench/corpus.py"),
                                 when=saved.get("began") or saved["when"], seconds=saved["seconds"],
                                 package=saved["package"], cpus=saved["machine"].get("cpus") or os.cpu_count())
    try:
        corpus.write_docs(block)
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"wrote the results into {corpus.CORPUS_DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
