"""All five performance scenarios of the budget, each with its baseline measured in the same run.

``python -m bench.run`` (``make bench``) runs, in this order:

1. jury burst (`bench/bench_jury_burst.py`): 500 jurors saving score sheets against the API
   process, next to a bare Litestar + asyncpg single-INSERT app;
2. announcements (`bench/bench_announcements.py`): 10,000 mails from publishing, then again with a
   worker killed mid-run, next to raw aiosmtplib;
3. deadline rush (`bench/bench_deadline_rush.py`): 1,000 entrants' whole submission flow with a
   1 MB presigned upload, then 20 MB files, API memory sampled, next to boto3 ``put_object``;
4. assignment (`bench/bench_assignment.py --lp reduced`): 10,000 × 500 × 3 with 2 % conflicts,
   next to the full graph and an independent HiGHS LP (on a 2,000 × 100 instance: the LP on the
   full instance takes minutes and ~5 GB, ``--lp full`` of that script runs it);
5. aggregation (`bench/bench_aggregate.py`): 1,000,000 criterion scores next to a reference.

The services (a private SeaweedFS on free ports, an SMTP capture, the database
``competition_bench``, Redis database 14) are started and removed by this run; PostgreSQL and
Redis themselves must be running. It prints a summary table and, with ``--json FILE``, writes
every figure. ``--quick`` runs small versions of each for a smoke test (a minute or two).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from bench import bench_announcements, bench_deadline_rush, bench_jury_burst
from bench.common import (
    REPO_ROOT,
    Environment,
    ScenarioResult,
    environment,
    log,
    machine,
    print_summary,
)

SCENARIOS = ("jury", "announcements", "rush", "assignment", "aggregation")


def _script(module: str, *args: str, timeout: float) -> tuple[dict[str, Any], float]:
    """Run one of the pure benchmarks as its own process; its last line is JSON."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    sys.stderr.write(done.stdout)
    summary: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return summary, wall


def assignment(quick: bool) -> ScenarioResult:
    lp = "skip" if quick else "reduced"
    s, wall = _script("bench.bench_assignment", "--lp", lp, timeout=600)
    solve = s["rows"][0]
    seconds = s["solve_median_s"] + s["check_feasibility_s"]
    lp_text = (
        f"; independent HiGHS LP on {s['rows'][-1]['case'].rsplit(' ', 1)[-1]}: objective "
        f"{s['lp_objective']} = ours {s['lp_compared_objective']}"
        if s["lp_objective"] is not None
        else ""
    )
    met = (
        s["within_budget"]
        and s["optimal"]
        and solve["spread_free"] is not None
        and solve["spread_free"] <= 1
        and solve["conflicts_violated"] == 0
    )
    return ScenarioResult(
        scenario="assignment",
        budget="10,000 × 500 × 3, 2 % conflicts: < 10 s, optimal, spread ≤ 1, 0 conflicts",
        measured=(
            f"{s['solve_median_s']:.2f} s solve (median of 3) + {s['check_feasibility_s']:.2f} s "
            f"feasibility; objective {s['objective']}, spread {solve['spread_free']}, "
            f"{solve['conflicts_violated']} conflicts violated, peak RSS "
            f"{solve['peak_rss_mib']:.0f} MiB"
        ),
        baseline=(
            f"same solver on the full graph: {s['full_graph_s']:.2f} s, objective "
            f"{s['full_graph_objective']}{lp_text}"
        ),
        ratio=f"{s['full_graph_s'] / s['solve_median_s']:.1f}× faster than the full graph",
        met=bool(met),
        wall_s=wall,
        notes=[f"solve + feasibility {seconds:.2f} s of the 10 s budget; LP mode --lp {lp}"],
        details=s,
    )


def aggregation(quick: bool) -> ScenarioResult:
    s, wall = _script("bench.bench_aggregate", timeout=600)
    z, raw = s["zscore"], s["raw"]
    met = s["within_budget"] and max(z["max_abs_diff"], raw["max_abs_diff"]) < 1e-9
    return ScenarioResult(
        scenario="aggregation",
        budget="1,000,000 criterion scores: < 5 s, equal to an independent reference",
        measured=(
            f"{z['aggregate_median_s']:.2f} s z-score / {raw['aggregate_median_s']:.2f} s raw "
            f"(median of 3, worst {max(z['aggregate_max_s'], raw['aggregate_max_s']):.2f} s)"
        ),
        baseline=(
            f"reference {z['reference_s']:.2f} s / {raw['reference_s']:.2f} s; max |diff| "
            f"{max(z['max_abs_diff'], raw['max_abs_diff']):.1e}"
        ),
        ratio=f"{z['speedup']:.1f}× / {raw['speedup']:.1f}× faster than the reference",
        met=bool(met),
        wall_s=wall,
        details=s,
    )


def failed(name: str, exc: BaseException, wall: float) -> ScenarioResult:
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return ScenarioResult(
        scenario=name,
        budget="-",
        measured="FAILED: " + text.splitlines()[0][:200],
        baseline="-",
        ratio="-",
        met=False,
        wall_s=wall,
        notes=[text[-2000:]],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small versions, for a smoke test")
    parser.add_argument(
        "--only", action="append", choices=SCENARIOS, help="run only these (repeatable)"
    )
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--keep", action="store_true", help="keep the logs of the services")
    args = parser.parse_args()
    chosen = args.only or list(SCENARIOS)
    started = time.perf_counter()
    info = machine()
    log(f"machine: {info}")
    results: list[ScenarioResult] = []

    # The rush goes last among them: SeaweedFS keeps working (and using CPU) for a while after
    # taking 2 GB, which would be load on the other scenarios' machine.
    service_runs: dict[str, Callable[[Environment, bool], ScenarioResult]] = {
        "jury": lambda env, quick: bench_jury_burst.run(env, quick=quick),
        "announcements": lambda env, quick: bench_announcements.run(env, quick=quick),
        "rush": lambda env, quick: bench_deadline_rush.run(env, quick=quick),
    }
    names = {"jury": "jury burst", "rush": "deadline rush", "announcements": "announcements"}
    wanted = [name for name in service_runs if name in chosen]
    if wanted:
        with environment(keep=args.keep) as env:
            for name in wanted:
                log(f"=== {names[name]}")
                began = time.perf_counter()
                try:
                    results.append(service_runs[name](env, args.quick))
                except Exception as exc:  # one broken scenario must not hide the others' figures
                    results.append(failed(names[name], exc, time.perf_counter() - began))
    for name, fn in (("assignment", assignment), ("aggregation", aggregation)):
        if name in chosen:
            log(f"=== {name}")
            began = time.perf_counter()
            try:
                results.append(fn(args.quick))
            except Exception as exc:
                results.append(failed(name, exc, time.perf_counter() - began))

    total = time.perf_counter() - started
    print()
    print(
        f"Benchmarks{' (quick)' if args.quick else ''} on {info['cores']} cores ({info['cpu']}), "
        f"{info['memory_gib']} GiB, Python {info['python']}; load average at start "
        f"{info['load_average']}; total {total / 60:.1f} min"
    )
    print_summary(results)
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": info,
                    "quick": args.quick,
                    "total_s": round(total, 1),
                    "results": msgspec.to_builtins(results),
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n",
            encoding="utf-8",
        )
    # A missed budget is a result (the table says so); only a scenario that crashed fails the run.
    sys.exit(1 if any(r.measured.startswith("FAILED") for r in results) else 0)


if __name__ == "__main__":
    main()
