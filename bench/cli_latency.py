"""CLI latency: `inv --list` and a cache-warm plan, against the floor `python -c "import invoke"`.

Targets: a dry-run plan within 2x the floor; `--list` with 500 specs within 1.5x of
`--list` with the shipped specs; a rollback plan beside hostile files (an endless
symlink, a megabyte flow list, 20,000 levels of nesting) within 1.1x of one without. The plan runs against the sandbox's control
plane and Worker (started here if it is not already up).

Every command, the floor included, runs with Python's bytecode cache on, as an
installed copy has it (its own cache folder, so nothing is written in the
repository): a shell with PYTHONDONTWRITEBYTECODE set would otherwise compile every
module of ops on every run while invoke's own come precompiled, which measures the
shell, not the tool.
"""

from __future__ import annotations

import resource
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import PYTHON, REPO, env_with, quick, ratio, summary, time_command, write_result  # noqa: E402

INV = [PYTHON, "-m", "invoke", "--search-root", str(REPO)]
CLI = [str(Path(PYTHON).parent / "cfw-remedy")]  # the console script a Worker's repository uses


def make_specs(folder: Path, count: int) -> None:
    shipped = sorted((REPO / "remediations").glob("*.yaml"))
    for i in range(count):
        source = shipped[i % len(shipped)]
        text = source.read_text()
        name = text.split("\nname: ", 1)[1].split("\n", 1)[0]
        (folder / f"{name}-{i}.yaml").write_text(text.replace(f"\nname: {name}\n", f"\nname: {name}-{i}\n", 1))


def make_hostile(folder: Path) -> None:
    for source in (REPO / "remediations").glob("*.yaml"):
        shutil.copy(source, folder / source.name)
    (folder / "zero.yaml").symlink_to("/dev/zero")
    (folder / "flow.yaml").write_text("name: flow\nsummary: [" + ", ".join(["a"] * 333_000) + "]\n")
    (folder / "deep.yaml").write_text("name: deep\nsummary: " + "[" * 20_000 + "]" * 20_000 + "\n")


def main() -> None:
    runs = 5 if quick() else 15
    work = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    many = work / "many"
    many.mkdir()
    make_specs(many, 500)
    hostile = work / "hostile"
    hostile.mkdir()
    make_hostile(hostile)
    base = _cached(env_with(), work)
    shipped_env = {**base, "OPS_CACHE_DIR": str(work / "cache-shipped")}
    many_env = {**base, "OPS_REMEDIATIONS_DIR": str(many), "OPS_CACHE_DIR": str(work / "cache-many")}
    hostile_env = {**base, "OPS_REMEDIATIONS_DIR": str(hostile), "OPS_CACHE_DIR": str(work / "cache-hostile")}
    for env in (shipped_env, many_env, hostile_env):  # first listing validates and caches; measured runs are warm
        time_command([*INV, "--list"], runs=1, env=env, warmup=0)

    sandbox = _sandbox()
    commands = {
        "floor_import_invoke": ([PYTHON, "-c", "import invoke"], base),
        "list_shipped": ([*INV, "--list"], shipped_env),
        "list_500": ([*INV, "--list"], many_env),
        "cli_list_shipped": ([*CLI, "--list"], shipped_env),
        "cli_list_500": ([*CLI, "--list"], many_env),
        "plan_cache_warm": ([*INV, "remediate.cache-warm", "--dry-run"], _cached({**shipped_env, **sandbox.env}, work)),
        "plan_rollback": ([*INV, "remediate.rollback", "--dry-run"], _cached({**sandbox.env, **shipped_env}, work)),
        "plan_rollback_hostile": ([*INV, "remediate.rollback", "--dry-run"], _cached({**sandbox.env, **hostile_env}, work)),
    }
    try:
        measured = _interleaved(commands, runs)
    finally:
        sandbox.stop()
        shutil.rmtree(work, ignore_errors=True)
    floor, list_shipped, list_many, cli_shipped, cli_many, plan, rollback, rollback_hostile = (
        measured[name] for name in commands)
    plan_ratio = ratio(plan["median_ms"], floor["median_ms"])
    list_ratio = ratio(list_many["median_ms"], list_shipped["median_ms"])
    figures: list[dict[str, Any]] = [
        {"what": "cache-warm --dry-run / python -c 'import invoke'", "value": f"{plan_ratio}x", "met": plan_ratio <= 2.0,
         "cpu": f"{ratio(plan['cpu_median_ms'], floor['cpu_median_ms'])}x"},
        {"what": "--list with 500 specs / --list with the shipped specs", "value": f"{list_ratio}x", "met": list_ratio <= 1.5,
         "cpu": f"{ratio(list_many['cpu_median_ms'], list_shipped['cpu_median_ms'])}x"},
        {"what": "cfw-remedy --list with 500 specs / with the shipped specs",
         "value": f"{ratio(cli_many['median_ms'], cli_shipped['median_ms'])}x",
         "met": ratio(cli_many["median_ms"], cli_shipped["median_ms"]) <= 1.5,
         "cpu": f"{ratio(cli_many['cpu_median_ms'], cli_shipped['cpu_median_ms'])}x"},
        {"what": "rollback --dry-run beside hostile specs / without them",
         "value": f"{ratio(rollback_hostile['median_ms'], rollback['median_ms'])}x",
         "met": ratio(rollback_hostile["median_ms"], rollback["median_ms"]) <= 1.1,
         "cpu": f"{ratio(rollback_hostile['cpu_median_ms'], rollback['cpu_median_ms'])}x"},
    ]
    print(write_result("cli_latency", {**measured, "figures": figures}))
    for figure in figures:
        print(f"{figure['what']}: {figure['value']} ({'met' if figure['met'] else 'missed'}; CPU time {figure['cpu']})")


def _interleaved(commands: dict[str, tuple[list[str], dict[str, str]]], runs: int) -> dict[str, dict[str, Any]]:
    """Each command once a round, ``runs`` rounds after one warm-up round, so a change in the machine's load
    touches every command alike; wall time (the figure) and the child's CPU time (steadier on a shared machine)."""
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for round_ in range(runs + 1):
        for name, (argv, env) in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            took = time_command(argv, runs=1, env=env, warmup=0)["median_ms"]
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if round_:
                wall[name].append(took)
                cpu[name].append(1000 * (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime))
    return {name: {**summary(wall[name]), "cpu_median_ms": round(statistics.median(cpu[name]), 1)} for name in commands}


def _cached(env: dict[str, str], work: Path) -> dict[str, str]:
    """``env`` with the bytecode cache on, in the run's own folder."""
    return {**{k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}, "PYTHONPYCACHEPREFIX": str(work / "pycache")}


class _Sandbox:
    def __init__(self, env: dict[str, str], stop: object) -> None:
        self.env = env
        self._stop = stop

    def stop(self) -> None:
        if callable(self._stop):
            self._stop()


def _sandbox() -> _Sandbox:
    from testing.sandbox import start_sandbox  # the whole sandbox on free ports in a temp dir

    handle = start_sandbox()
    return _Sandbox(handle.ops_env(), handle.stop)


if __name__ == "__main__":
    main()
