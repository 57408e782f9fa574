"""`adesso simulate`: replay a trace of customer arrivals with simulated agents.

The command never touches the configured database: it checks its input, then
runs itself again in a subprocess against a throw-away SQLite database in a
temporary directory (migrated from scratch), where the simulation runs through
the real intake, acknowledgement, routing and SLA code (`engine.py`). The
subprocess writes its figures as JSON; this process prints them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from adesso.simulation import report
from adesso.simulation.child import MARKER
from adesso.simulation.trace import Arrival, TraceError, build_twcs_trace, parse_time, read, resolve, select

# The options the subprocess gets again, by their flags.
PASSED_ON = {
    "trace": "--trace",
    "agents": "--agents",
    "staffing": "--staffing",
    "handle_minutes": "--handle-minutes",
    "handle_spread": "--handle-spread",
    "seed": "--seed",
    "target_minutes": "--target-minutes",
    "tick_seconds": "--tick-seconds",
    "start": "--from",
    "end": "--to",
    "limit": "--limit",
    "speedup": "--speedup",
}


class Command(BaseCommand):
    help = (
        "Replay a trace of customer arrivals (CSV: timestamp,channel,contact,text) through the real "
        "routing and SLA code with simulated agents, in a throw-away database, and print the share "
        "answered within target, first response p50/p90/max and the longest silence, per channel."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--trace", help="the trace: a CSV file, or the name of a shipped one (twcs)")
        parser.add_argument("--agents", type=int, help="simulated agents, always online")
        parser.add_argument("--json", action="store_true", help="print the figures as JSON")
        parser.add_argument("--staffing", help="agents per hour of the week: the JSON of `adesso plan --json`")
        parser.add_argument("--handle-minutes", type=float, default=6.0, help="mean handling time (6)")
        parser.add_argument(
            "--handle-spread",
            type=float,
            default=0.5,
            help="sigma of the lognormal handling time (0.5; 0: always the mean)",
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed of the handling times (1)")
        parser.add_argument(
            "--target-minutes",
            type=float,
            help="first and next response target (default: the new organisation's policy, 60)",
        )
        parser.add_argument("--tick-seconds", type=int, default=60, help="simulated seconds between timer ticks (60)")
        parser.add_argument("--from", dest="start", help="replay arrivals from this ISO 8601 time")
        parser.add_argument("--to", dest="end", help="replay arrivals before this ISO 8601 time")
        parser.add_argument("--limit", type=int, help="replay only the first LIMIT arrivals")
        parser.add_argument(
            "--speedup", type=float, default=1.0, help="divide the gaps between arrivals by this (2: twice the load)"
        )
        parser.add_argument(
            "--engine",
            choices=("fast", "full"),
            default="fast",
            help="fast: the real routing, estimate and SLA decisions on state in memory "
            "(default); full: every action on a throw-away database",
        )
        parser.add_argument("--keep", action="store_true", help="keep the simulation's database; print where")
        parser.add_argument(
            "--build-trace",
            metavar="OUTPUT",
            nargs="?",
            const="",
            help="write the example trace from TWCS (default: the shipped twcs_sample.csv)",
        )
        parser.add_argument("--source", help="TWCS CSV for --build-trace (default: ../shared/data/twcs/)")
        parser.add_argument("--run-here", help=argparse.SUPPRESS)
        parser.add_argument("--progress", action="store_true", help=argparse.SUPPRESS)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["build_trace"] is not None:
            self._build_trace(options)
            return
        arrivals = self._arrivals(options)
        staffing = _staffing(options["staffing"]) if options["staffing"] else None
        if staffing is not None:
            options["staffing"] = str(Path(options["staffing"]).resolve())
            if options["agents"] is not None:
                raise CommandError("Give --agents or --staffing, not both.")
        elif options["agents"] is None:
            raise CommandError("Say how many agents: --agents N (or --staffing FILE).")
        if options["agents"] is not None and options["agents"] < 1:
            raise CommandError("--agents must be at least 1.")
        if options["agents"] is not None and options["agents"] > 1000:
            raise CommandError("--agents must be at most 1000.")
        _check_numbers(options)
        if options["engine"] == "fast" and not options["run_here"]:
            from adesso.simulation.child import run_fast

            options["progress"] = not options["json"] and sys.stderr.isatty()
            result = run_fast(arrivals, staffing, options)
            self._print(result, options)
            return
        if options["run_here"]:
            from adesso.simulation.child import run_here

            run_here(arrivals, staffing, options)
            return
        self._print(self._run_child(options), options)

    def _print(self, result: dict[str, Any], options: dict[str, Any]) -> None:
        if options["json"]:
            self.stdout.write(json.dumps(result, indent=2))
        else:
            self.stdout.write(report.table(result, color=self.stdout.isatty()), ending="")

    def _build_trace(self, options: dict[str, Any]) -> None:
        from adesso.simulation.trace import SHIPPED

        output = Path(options["build_trace"] or SHIPPED["twcs"])
        default = Path(settings.BASE_DIR).parent.parent / "shared" / "data" / "twcs" / "twcs_head_sample.csv"
        try:
            # --from/--to choose another window of the source (default: the shipped trace's three days).
            window = {
                key: parse_time(options[name]) for key, name in (("start", "start"), ("end", "end")) if options[name]
            }
            count = build_twcs_trace(Path(options["source"] or default), output, **window)
        except TraceError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Wrote {count} arrivals to {output}")

    def _arrivals(self, options: dict[str, Any]) -> list[Arrival]:
        if not options["trace"]:
            raise CommandError("Say which trace to replay: --trace FILE (or --trace twcs).")
        try:
            path = resolve(options["trace"])
            options["trace"] = str(path.resolve())
            start = parse_time(options["start"]) if options["start"] else None
            end = parse_time(options["end"]) if options["end"] else None
            arrivals = read(path)
        except TraceError as exc:
            raise CommandError(str(exc)) from None
        if options["limit"] is not None and options["limit"] < 1:
            raise CommandError("--limit must be at least 1.")
        if not 0.01 <= options["speedup"] <= 1000:
            raise CommandError("--speedup must be between 0.01 and 1000.")
        chosen = select(arrivals, start, end, options["limit"], options["speedup"])
        if not chosen:
            raise CommandError("No arrivals in the chosen part of the trace (--from, --to).")
        return chosen

    def _run_child(self, options: dict[str, Any]) -> dict[str, Any]:
        """Run the simulation in a subprocess on a fresh SQLite database in a temporary directory."""
        var_dir = Path(tempfile.mkdtemp(prefix="adesso-simulate-"))
        (var_dir / MARKER).write_text("a throw-away database for adesso simulate\n")
        result_path = var_dir / "result.json"
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "MEDIA_ROOT")}
        env["ADESSO_VAR_DIR"] = str(var_dir)
        # Tasks are kept, never run: the outbox queues every outgoing message and nothing
        # is sent anywhere (the only tasks are deliveries; acknowledgements and routing
        # happen inside the actions, which run for real).
        env["ADESSO_TASKS_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
        command = [sys.executable, "-m", "adesso", "simulate", "--run-here", str(result_path)]
        for name, flag in PASSED_ON.items():
            if options[name] is not None:
                command += [flag, str(options[name])]
        progress = not options["json"] and sys.stderr.isatty()
        if progress:
            command.append("--progress")
        try:
            done = subprocess.run(  # noqa: S603 (our own interpreter and command)
                command,
                env=env,
                stdout=subprocess.PIPE,
                stderr=None if progress else subprocess.PIPE,
                text=True,
                check=False,
            )
            if done.returncode != 0 or not result_path.exists():
                tail = "\n".join((done.stderr or done.stdout or "").strip().splitlines()[-15:])
                raise CommandError(f"The simulation failed (exit {done.returncode}):\n{tail}")
            result: dict[str, Any] = json.loads(result_path.read_text())
        finally:
            if options["keep"]:
                self.stderr.write(f"The simulation's database is in {var_dir}")
            else:
                shutil.rmtree(var_dir, ignore_errors=True)
        return result


def _check_numbers(options: dict[str, Any]) -> None:
    if not 0.1 <= options["handle_minutes"] <= 24 * 60:
        raise CommandError("--handle-minutes must be between 0.1 and 1440.")
    if not 0 <= options["handle_spread"] <= 3:
        raise CommandError("--handle-spread must be between 0 and 3.")
    if options["target_minutes"] is not None and not 1 <= options["target_minutes"] <= 7 * 24 * 60:
        raise CommandError("--target-minutes must be between 1 and 10080.")
    if not 5 <= options["tick_seconds"] <= 3600:
        raise CommandError("--tick-seconds must be between 5 and 3600.")


def _staffing(name: str) -> dict[str, Any]:
    """Agents per hour of the week from `adesso plan --json`: {"hours": [{"weekday", "hour", "agents"}]}."""
    try:
        data = json.loads(Path(name).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError(f"--staffing {name}: cannot be read ({exc.strerror}).") from None
    except ValueError:
        raise CommandError(f"--staffing {name}: not JSON.") from None
    hours = data.get("hours") if isinstance(data, dict) else None
    if not isinstance(hours, list) or not hours:
        raise CommandError(f'--staffing {name}: expected {{"hours": [{{"weekday", "hour", "agents"}}, ...]}}.')
    week = [0] * (7 * 24)
    for item in hours:
        try:
            weekday, hour, agents = int(item["weekday"]), int(item["hour"]), int(item["agents"])
        except (KeyError, TypeError, ValueError):
            raise CommandError(
                f"--staffing {name}: every hour needs whole numbers weekday, hour and agents: {item!r}."
            ) from None
        if not (0 <= weekday <= 6 and 0 <= hour <= 23 and 0 <= agents <= 1000):
            raise CommandError(f"--staffing {name}: weekday 0-6, hour 0-23, agents 0-1000: {item!r}.")
        week[weekday * 24 + hour] = agents
    if not any(week):
        raise CommandError(f"--staffing {name}: no agents in any hour.")
    zone = data.get("timezone") or settings.TIME_ZONE
    try:
        import zoneinfo

        zoneinfo.ZoneInfo(str(zone))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CommandError(f"--staffing {name}: unknown time zone {zone!r}.") from None
    return {"week": week, "timezone": str(zone)}
