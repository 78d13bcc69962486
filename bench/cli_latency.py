"""CLI latency: `inv --list` and a cache-warm plan, against the floor `python -c "import invoke"`.

Targets: a dry-run plan within 2x the floor; `--list` with 500 specs within 1.5x of
`--list` with the shipped specs. The plan runs against the sandbox's control
plane and Worker (started here if it is not already up).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import PYTHON, REPO, env_with, quick, ratio, time_command, write_result  # noqa: E402

INV = [PYTHON, "-m", "invoke", "--search-root", str(REPO)]


def make_specs(folder: Path, count: int) -> None:
    shipped = sorted((REPO / "remediations").glob("*.yaml"))
    for i in range(count):
        source = shipped[i % len(shipped)]
        text = source.read_text()
        name = text.split("\nname: ", 1)[1].split("\n", 1)[0]
        (folder / f"{name}-{i}.yaml").write_text(text.replace(f"\nname: {name}\n", f"\nname: {name}-{i}\n", 1))


def main() -> None:
    runs = 5 if quick() else 15
    work = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    many = work / "many"
    many.mkdir()
    make_specs(many, 500)
    shipped_env = env_with(OPS_CACHE_DIR=str(work / "cache-shipped"))
    many_env = env_with(OPS_REMEDIATIONS_DIR=str(many), OPS_CACHE_DIR=str(work / "cache-many"))
    for env in (shipped_env, many_env):  # first listing validates and caches; measured runs are warm
        time_command([*INV, "--list"], runs=1, env=env, warmup=0)

    sandbox = _sandbox()
    try:
        floor = time_command([PYTHON, "-c", "import invoke"], runs=runs)
        list_shipped = time_command([*INV, "--list"], runs=runs, env=shipped_env)
        list_many = time_command([*INV, "--list"], runs=runs, env=many_env)
        plan = time_command([*INV, "remediate.cache-warm", "--dry-run"], runs=runs, env={**shipped_env, **sandbox.env})
    finally:
        sandbox.stop()
        shutil.rmtree(work, ignore_errors=True)
    plan_ratio = ratio(plan["median_ms"], floor["median_ms"])
    list_ratio = ratio(list_many["median_ms"], list_shipped["median_ms"])
    result = {
        "floor_import_invoke": floor, "list_shipped": list_shipped, "list_500": list_many, "plan_cache_warm": plan,
        "figures": [
            {"what": "cache-warm --dry-run / python -c 'import invoke'", "value": f"{plan_ratio}x", "met": plan_ratio <= 2.0},
            {"what": "--list with 500 specs / --list with the shipped specs", "value": f"{list_ratio}x", "met": list_ratio <= 1.5},
        ],
    }
    print(write_result("cli_latency", result))
    for figure in result["figures"]:
        print(f"{figure['what']}: {figure['value']} ({'met' if figure['met'] else 'missed'})")


class _Sandbox:
    def __init__(self, env: dict[str, str], stop: object) -> None:
        self.env = env
        self._stop = stop

    def stop(self) -> None:
        if callable(self._stop):
            self._stop()


def _sandbox() -> _Sandbox:
    from ops.sandbox.testing import start_sandbox  # the whole sandbox on free ports in a temp dir

    handle = start_sandbox()
    return _Sandbox(handle.ops_env(), handle.stop)


if __name__ == "__main__":
    main()
