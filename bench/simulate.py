"""`adesso simulate` and the verified planner: arrivals replayed per second (issue 15: at least 1,000).

    .venv/bin/python -m bench.simulate [--full] [--wait-quiet SECONDS]

Times the fast engine (adesso.simulation.fast: the real routing, estimate and
SLA decisions on state in memory) on the shipped TWCS trace and on a synthetic
four weeks of a 20,000-call help desk, and `adesso plan --trace` with its
verification (replays and raises until the target is met). `--full` also times
the full engine (every action on a throw-away SQLite database) on the first
300 arrivals of the shipped trace, for comparison. CPU seconds of this process
are reported next to the wall time: on a shared machine the wall time says
more about the neighbours.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import os
import random
import sys
import tempfile
import time
import zoneinfo
from pathlib import Path
from typing import Any

from bench.common import log, machine, table, wait_for_quiet, write_results

UTC = dt.UTC


def call_center(path: Path, calls: int = 20_000, weeks: int = 4, seed: int = 5) -> Path:
    """A help desk's arrivals: busy weekday afternoons, quiet nights and weekends,
    Poisson within each hour, one Monday with three times the traffic."""
    rng = random.Random(seed)
    start = dt.datetime(2026, 1, 5, tzinfo=UTC)
    shape = [0.2] * 7 + [1.0, 2.0, 3.0, 3.0, 2.5, 2.0, 2.5, 3.0, 3.0, 2.5, 2.0, 1.0, 0.6, 0.4, 0.3, 0.2, 0.2]
    weights = []
    for day in range(7 * weeks):
        weekend = 0.4 if day % 7 >= 5 else 1.0
        surge = 3.0 if day == 14 else 1.0
        weights += [s * weekend * surge for s in shape]
    scale = calls / sum(weights)
    rows = []
    for hour, weight in enumerate(weights):
        for _ in range(_poisson(rng, weight * scale)):
            rows.append(start + dt.timedelta(hours=hour, seconds=rng.uniform(0, 3600)))
    rows.sort()
    with path.open("w") as handle:
        handle.write("timestamp,channel,contact,text\n")
        for i, at in enumerate(rows):
            channel = "phone" if i % 3 else "mail"
            handle.write(f"{at.isoformat()},{channel},c{rng.randrange(calls // 2)},Hello my order is late\n")
    return path


def _poisson(rng: random.Random, mean: float) -> int:
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def replay(trace: Path, week: list[int] | None, agents: int, repeat: int = 3) -> dict[str, Any]:
    from adesso.simulation.engine import Options
    from adesso.simulation.fast import FastSimulation, report
    from adesso.simulation.trace import read

    arrivals = read(trace)
    best_wall, best_cpu, result = math.inf, math.inf, {}
    for _ in range(repeat):
        options = Options(agents=agents, staffing=week, staffing_tz=UTC)
        wall, cpu = time.perf_counter(), time.process_time()
        run = FastSimulation(arrivals, options).run()
        result = report(run)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return {
        "arrivals": len(arrivals),
        "wall_s": round(best_wall, 3),
        "cpu_s": round(best_cpu, 3),
        "per_second_cpu": round(len(arrivals) / best_cpu),
        "per_second_wall": round(len(arrivals) / best_wall),
        "within_target_share": result["within_target_share"],
        "turns": result["turns"],
    }


def plan(trace: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    from adesso.reports import planner

    wall, cpu = time.perf_counter(), time.process_time()
    made = planner.plan_from_trace(trace, planner.PlanInput(tz=zoneinfo.ZoneInfo("UTC")), verified=True)
    return made, {"wall_s": round(time.perf_counter() - wall, 2), "cpu_s": round(time.process_time() - cpu, 2)}


def full_engine(limit: int) -> dict[str, Any]:
    from django.core.management import call_command

    out = io.StringIO()
    wall = time.perf_counter()
    call_command(
        "simulate", "--trace", "twcs", "--agents", "20", "--limit", str(limit), "--engine", "full", "--json", stdout=out
    )
    result = json.loads(out.getvalue())
    return {
        "arrivals": limit,
        "wall_s": round(result["wall_seconds"], 2),
        "per_second_wall": round(limit / result["wall_seconds"], 1),
        "command_wall_s": round(time.perf_counter() - wall, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="also time the full engine on 300 arrivals")
    parser.add_argument("--wait-quiet", type=float, default=15.0)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adesso.settings")
    import django

    django.setup()
    from adesso.simulation.trace import SHIPPED

    others = wait_for_quiet(args.wait_quiet)
    rows, data = [], {"machine": machine(), "others_cores": round(others, 2)}
    with tempfile.TemporaryDirectory() as tmp:
        synthetic = call_center(Path(tmp) / "call_center.csv")
        traces = (("twcs (shipped, 3 days)", SHIPPED["twcs"]), ("call center (synthetic, 4 weeks)", synthetic))
        for name, trace in traces:
            log(f"planning {name}")
            made, timing = plan(trace)
            week = [h["agents"] for h in made["hours"]]
            data[f"plan {name}"] = {
                **timing,
                "agent_hours_per_week": made["agent_hours_per_week"],
                "rounds": made["verification"]["rounds"],
            }
            rows.append(
                [
                    f"{name}: `adesso plan --trace` with verification ({made['verification']['rounds']} rounds)",
                    "",
                    timing["cpu_s"],
                    timing["wall_s"],
                    "",
                    "",
                ]
            )
            for label, staffing, agents in (("planner's staffing", week, 0), ("20 agents", None, 20)):
                log(f"replaying {name} with {label}")
                measured = replay(trace, staffing, agents)
                data[f"{name} {label}"] = measured
                rows.append(
                    [
                        f"{name}, {label}",
                        f"{measured['arrivals']:,}",
                        measured["cpu_s"],
                        measured["wall_s"],
                        f"{measured['per_second_cpu']:,}",
                        measured["within_target_share"],
                    ]
                )
    if args.full:
        log("full engine, 300 arrivals")
        measured = full_engine(300)
        data["full engine"] = measured
        rows.append(
            [
                "twcs, 20 agents, full engine (database)",
                "300",
                "",
                measured["wall_s"],
                f"{measured['per_second_wall']}",
                "",
            ]
        )
    print(table(["replay", "arrivals", "CPU s", "wall s", "arrivals/s (CPU)", "within 60 min"], rows))
    path = write_results("simulate", data)
    log(f"results in {path}")


if __name__ == "__main__":
    sys.exit(main())
