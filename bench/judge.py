"""The statistical judge against today's fixed thresholds, on seeded simulated split traffic.

Each run simulates a split deployment for up to WINDOW seconds, polled every INTERVAL:
requests arrive as a Poisson process at RATE requests/s in total, each routed at random
to the candidate with probability SPLIT. Both versions fail BASE_ERROR of their requests
(5xx), answer 2% with a 4xx, and take a lognormal wall time (median 50 ms, p95 ~134 ms);
the regressions add 1, 5 or 10 points of 5xx, or 300 ms to every request, to the
candidate. At every poll the same cumulative evidence goes to:

- the judge (ops.judge.compare.judge, default settings, analytics-style P50/P90/P99);
- "fixed 1%": today's check on the candidate alone, error rate <= 1% and p95 <= 2 s,
  once it has 20 requests (rollback.yaml's defaults), at every poll;
- "fixed 10%": the same with a 10% error-rate limit.

It prints, per cell, the rate of "worse" verdicts (false alarms for healthy vs healthy,
detections otherwise) and the median time to the first one; for healthy runs also how
often and how fast the judge says "no-worse". Seeds are fixed: a rerun prints the same.

    python bench/judge.py [--quick] [--split 0.1]   # --table: print the last run's table again
"""

from __future__ import annotations

import json
import math
import random
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import RESULTS, quick, write_result  # noqa: E402
from ops.judge.compare import Arm, JudgeSettings, Look, judge  # noqa: E402

INTERVAL = 10
WINDOW = 600
RATES = (1, 10, 100)
SPLITS = (0.5, 0.1)
BASE_ERROR = 0.002
CLIENT_ERROR = 0.02
MEDIAN_MS, SIGMA = 50.0, 0.6
SCENARIOS: dict[str, tuple[float, float]] = {  # name: (added 5xx rate, added ms) on the candidate
    "healthy": (0.0, 0.0), "+1% errors": (0.01, 0.0), "+5% errors": (0.05, 0.0),
    "+10% errors": (0.10, 0.0), "+300 ms": (0.0, 300.0),
}
SETTINGS = JudgeSettings()
FIXED_MIN_REQUESTS = 20  # remediations/rollback.yaml's min_requests default


def poisson(rng: random.Random, mean: float) -> int:
    if mean >= 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def binomial(rng: random.Random, n: int, p: float) -> int:
    if n == 0 or p <= 0:
        return 0
    if n * p >= 30 and n * (1 - p) >= 30:
        return min(n, max(0, round(rng.gauss(n * p, math.sqrt(n * p * (1 - p))))))
    if n < 60:
        return sum(rng.random() < p for _ in range(n))
    count, position, log_q = 0, 0, math.log1p(-p)
    while True:
        position += int(math.log(1.0 - rng.random()) / log_q) + 1
        if position > n:
            return count
        count += 1


@dataclass
class Version:
    error: float
    added_ms: float
    requests: int = 0
    errors: int = 0
    client_errors: int = 0

    def __post_init__(self) -> None:
        self.wall: list[float] = []

    def serve(self, rng: random.Random, n: int) -> None:
        self.requests += n
        self.errors += binomial(rng, n, self.error)
        self.client_errors += binomial(rng, n, CLIENT_ERROR)
        self.wall.extend(rng.lognormvariate(math.log(MEDIAN_MS), SIGMA) + self.added_ms for _ in range(n))
        self.wall.sort()  # a sorted run and a new one: timsort merges them in linear time

    def quantile(self, level: float) -> float:
        return self.wall[min(len(self.wall) - 1, int(level * len(self.wall)))] if self.wall else 0.0

    def arm(self) -> Arm:
        quantiles = {f"P{p}": self.quantile(p / 100) for p in (50, 90, 99)} if self.wall else None
        return Arm(self.requests, self.errors, self.client_errors, quantiles=quantiles)


def fixed_fails(candidate: Version, max_error_rate: float) -> bool:
    if candidate.requests < FIXED_MIN_REQUESTS:
        return False
    return candidate.errors / candidate.requests > max_error_rate or candidate.quantile(0.95) > 2000


def simulate(scenario: str, rate: int, split: float, seed: int) -> dict[str, float | None]:
    rng = random.Random(f"{scenario}/{rate}/{split}/{seed}")
    added_error, added_ms = SCENARIOS[scenario]
    control, candidate = Version(BASE_ERROR, 0.0), Version(BASE_ERROR + added_error, added_ms)
    looks: list[Look] = []
    first: dict[str, float | None] = {"judge": None, "no-worse": None, "fixed 1%": None, "fixed 10%": None}
    for t in range(INTERVAL, WINDOW + 1, INTERVAL):
        arrivals = poisson(rng, rate * INTERVAL)
        to_candidate = binomial(rng, arrivals, split)
        candidate.serve(rng, to_candidate)
        control.serve(rng, arrivals - to_candidate)
        looks.append(Look(control.arm(), candidate.arm()))
        decided = scenario != "healthy" and first["judge"] is not None
        outcome = "worse" if decided else judge(looks, SETTINGS).outcome
        for name, fired in (("judge", outcome == "worse"), ("no-worse", outcome == "no-worse"),
                            ("fixed 1%", fixed_fails(candidate, 0.01)), ("fixed 10%", fixed_fails(candidate, 0.10))):
            if fired and first[name] is None:
                first[name] = t
        if scenario != "healthy" and all(first[k] is not None for k in ("judge", "fixed 1%", "fixed 10%")):
            break
    return first


def cell(scenario: str, rate: int, split: float, runs: int) -> dict[str, Any]:
    results = [simulate(scenario, rate, split, seed) for seed in range(runs)]
    row: dict[str, Any] = {"scenario": scenario, "rate": rate, "split": split, "runs": runs}
    for name in ("judge", "no-worse", "fixed 1%", "fixed 10%"):
        times = [r[name] for r in results if r[name] is not None]
        row[name] = {"rate": len(times) / runs, "median_s": statistics.median(times) if times else None}
    return row


def show(row: dict[str, Any]) -> str:
    def part(name: str) -> str:
        figure = row[name]
        when = f"{figure['median_s']:.0f} s" if figure["median_s"] is not None else "-"
        return f"{figure['rate']:6.1%} {when:>6}"

    extra = f"   no-worse {part('no-worse')}" if row["scenario"] == "healthy" else ""
    return (f"{row['scenario']:<12} {row['rate']:>4}/s split {row['split']:<4}  judge {part('judge')}   "
            f"fixed 1% {part('fixed 1%')}   fixed 10% {part('fixed 10%')}{extra}")


def markdown(rows: list[dict[str, Any]]) -> str:
    def figure(row: dict[str, Any], name: str) -> str:
        cell_ = row[name]
        when = f" in {cell_['median_s']:.0f} s" if cell_["median_s"] is not None else ""
        return f"{cell_['rate']:.1%}{when}"

    lines = ["| candidate share | traffic | scenario | judge: worse | judge: no worse | fixed 1% | fixed 10% |",
             "|---|---|---|---|---|---|---|"]
    for row in rows:
        no_worse = figure(row, "no-worse") if row["scenario"] == "healthy" else ""
        lines.append(f"| {row['split']:.0%} | {row['rate']}/s | {row['scenario']} ({row['runs']} runs) | "
                     f"{figure(row, 'judge')} | {no_worse} | {figure(row, 'fixed 1%')} | {figure(row, 'fixed 10%')} |")
    return "\n".join(lines)


def main() -> None:
    if "--table" in sys.argv:  # the last runs' table (every split), as docs/judge.md shows it
        rows_by_cell = {(row["split"], row["scenario"], row["rate"]): row for path in sorted(RESULTS.glob("judge*.json"))
                        for row in json.loads(path.read_text(encoding="utf-8"))["rows"]}
        print(markdown(sorted(rows_by_cell.values(), key=lambda row: (-row["split"], list(SCENARIOS).index(
            row["scenario"]), row["rate"]))))
        return
    healthy_runs, regression_runs = (40, 10) if quick() else (400, 50)
    started = time.perf_counter()
    rows = []
    print(f"'worse' rate and median time to it, {WINDOW} s window, a poll every {INTERVAL} s; "
          f"{healthy_runs} healthy / {regression_runs} regression runs per cell")
    splits = [float(sys.argv[sys.argv.index("--split") + 1])] if "--split" in sys.argv else list(SPLITS)
    for split in splits:
        for scenario in SCENARIOS:
            for rate in RATES:
                row = cell(scenario, rate, split, healthy_runs if scenario == "healthy" else regression_runs)
                print(show(row), flush=True)
                rows.append(row)
    took = time.perf_counter() - started
    name = "judge" if "--split" not in sys.argv else f"judge-split{round(splits[0] * 100)}"
    path = write_result(name, {"settings": SETTINGS.to_dict(), "window_s": WINDOW, "interval_s": INTERVAL,
                                  "base_error_rate": BASE_ERROR, "rows": rows, "took_s": round(took, 1)})
    print(markdown(rows))
    print(f"took {took:.0f} s; wrote {path}")


if __name__ == "__main__":
    main()
