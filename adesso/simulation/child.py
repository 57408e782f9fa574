"""The part of `adesso simulate` that runs in the subprocess, on the throw-away database."""

from __future__ import annotations

import datetime as dt
import json
import os
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from adesso.simulation.engine import Options, Run, Simulation
from adesso.simulation.measures import report
from adesso.simulation.trace import Arrival

MARKER = "adesso-simulation.marker"


def _check_throwaway() -> None:
    """Refuse to run anywhere but in the temporary directory the parent process made."""
    var_dir = Path(os.environ.get("ADESSO_VAR_DIR", "")).resolve()
    database = settings.DATABASES["default"]
    inside = str(Path(str(database.get("NAME", ""))).resolve()).startswith(str(var_dir) + os.sep)
    if not (var_dir / MARKER).is_file() or database["ENGINE"] != "django.db.backends.sqlite3" or not inside:
        raise CommandError("--run-here is for adesso simulate's own subprocess, on a throw-away database.")


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Callable[[int, int], None] | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("Simulating"), BarColumn(), MofNCompleteColumn(), TextColumn("arrivals"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("arrivals", total=total)
        yield lambda done, _total: bar.update(task, completed=done)


def run_here(arrivals: list[Arrival], staffing: dict[str, Any] | None, options: dict[str, Any]) -> None:
    _check_throwaway()
    call_command("migrate", verbosity=0, interactive=False)
    sim_options = build_options(staffing, options)
    with _progress(options["progress"], len(arrivals)) as progress:
        run = Simulation(arrivals, sim_options, progress).run()
    result = report(run.organization_id, run.target_seconds, run.ended)
    result.update(_run_figures(run, arrivals, sim_options))
    result["engine"] = "full"
    Path(options["run_here"]).write_text(json.dumps(result, indent=2))


def build_options(staffing: dict[str, Any] | None, options: dict[str, Any]) -> Options:
    sim_options = Options(
        agents=options["agents"] or 0,
        handle_minutes=options["handle_minutes"],
        handle_spread=options["handle_spread"],
        seed=options["seed"],
        tick_seconds=options["tick_seconds"],
        target_minutes=options["target_minutes"],
    )
    if staffing is not None:
        sim_options.staffing = staffing["week"]
        sim_options.staffing_tz = zoneinfo.ZoneInfo(staffing["timezone"])
    return sim_options


def run_fast(arrivals: list[Arrival], staffing: dict[str, Any] | None, options: dict[str, Any]) -> dict[str, Any]:
    """The fast engine (adesso.simulation.fast): in memory, in this process, no database."""
    from adesso.simulation import fast

    sim_options = build_options(staffing, options)
    with _progress(options["progress"], len(arrivals)) as progress:
        run = fast.FastSimulation(arrivals, sim_options, progress).run()
    result = fast.report(run)
    result.update(_run_figures(fast.as_run(run), arrivals, sim_options))
    result["engine"] = "fast"
    return result


def _run_figures(run: Run, arrivals: list[Arrival], options: Options) -> dict[str, Any]:
    span_h = (arrivals[-1].at - arrivals[0].at).total_seconds() / 3600
    staffed_h = _staffed_hours(arrivals[0].at, arrivals[-1].at, options)
    return {
        "target_s": run.target_seconds,
        "agents": run.agents,
        "staffing": bool(options.staffing),
        "arrivals": run.arrivals,
        "arrivals_per_hour": round(run.arrivals / span_h, 2) if span_h else None,
        "handle_minutes": options.handle_minutes,
        "offered_load": round(run.arrivals * options.handle_minutes / 60 / staffed_h, 4) if staffed_h else None,
        "utilisation": round(run.busy_seconds / run.online_seconds, 4) if run.online_seconds else None,
        "simulated_from": run.started.isoformat(),
        "simulated_to": run.ended.isoformat(),
        "drained": run.drained,
        "wall_seconds": round(run.wall_seconds, 2),
    }


def _staffed_hours(start: dt.datetime, end: dt.datetime, options: Options) -> float:
    """Agent-hours on offer while customers arrive: N agents, or the schedule's, hour by hour."""
    if not options.staffing:
        return options.agents * (end - start).total_seconds() / 3600
    total = 0.0
    at = start
    while at < end:
        local = at.astimezone(options.staffing_tz)
        hour_end = (local.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)).astimezone(dt.UTC)
        upto = min(hour_end, end)
        total += options.staffing[local.weekday() * 24 + local.hour] * (upto - at).total_seconds() / 3600
        at = upto
    return total
