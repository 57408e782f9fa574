"""`adesso plan`: agents needed per hour of the week (Erlang C), from the database or a trace."""

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser, no_translations
from django.utils import timezone

from adesso.accounts.models import Organization
from adesso.lib.errors import ActionError
from adesso.reports import planner
from adesso.reports.periods import parse_timezone

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Command(BaseCommand):
    help = (
        "Agents needed per hour of the week so that a share of customers gets a human answer "
        "within the target (Erlang C), from the last weeks' arrivals in the database or a trace CSV."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--trace",
                            help="a trace CSV (timestamp,channel,contact,text), or a shipped trace's name (twcs)")
        parser.add_argument("--org", help="the organisation's code (database source; default: the only one)")
        parser.add_argument("--weeks", type=float, default=planner.DEFAULT_WEEKS,
                            help="average over the last N weeks (default 4)")
        parser.add_argument("--target-minutes", type=float,
                            help="first-response target (default: the organisation's, 60 min for a trace)")
        parser.add_argument("--share", type=float, default=planner.DEFAULT_SHARE,
                            help="share answered within the target (default 0.95)")
        parser.add_argument("--handle-minutes", type=float,
                            help="mean handling time (default: estimated from the data, else 6 min)")
        parser.add_argument("--timezone", default=None,
                            help="hours of the week in this time zone (default Europe/Rome)")
        parser.add_argument("--json", action="store_true", help="print the plan as JSON")
        parser.add_argument("--no-verify", action="store_true",
                            help="a trace's plan: Erlang C only, without replaying the trace in the simulator")

    @no_translations
    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            params = planner.PlanInput(
                weeks=opts["weeks"], target_minutes=opts["target_minutes"], share=opts["share"],
                handle_minutes=opts["handle_minutes"], tz=parse_timezone(opts["timezone"]),
            )
            if opts["trace"]:
                verified = not opts["no_verify"]
                with _progress(verified and not opts["json"] and sys.stderr.isatty()) as progress:
                    plan = planner.plan_from_trace(opts["trace"], params, verified=verified, progress=progress)
            else:
                plan = planner.plan_from_database(self._org(opts["org"]).pk, params, timezone.now())
        except ActionError as exc:
            raise CommandError(exc.message) from None
        if opts["json"]:
            self.stdout.write(json.dumps(plan, indent=1))
            return
        self._print(plan)

    def _org(self, code: str | None) -> Organization:
        if code:
            org = Organization.objects.filter(code=code).first()
            if org is None:
                raise CommandError(f"No organisation with code {code!r}.")
            return org
        orgs = list(Organization.objects.order_by("pk")[:2])
        if len(orgs) != 1:
            raise CommandError("Name the organisation with --org CODE." if orgs else "There is no organisation yet.")
        return orgs[0]

    def _print(self, plan: dict[str, Any]) -> None:
        out = self.stdout
        out.write(
            f"Source: {plan['source']}, {plan['weeks']} week(s) from {plan['from']} to {plan['to']}, "
            f"{plan['customer_turns']} customer turns; hours in {plan['timezone']}"
        )
        out.write(
            f"Target: {plan['share']:.0%} answered within {plan['target_seconds'] / 60:g} min; "
            f"handling time {plan['handle_seconds'] / 60:.1f} min ({plan['handle_source']})"
        )
        out.write("Agents needed (hour x weekday):")
        out.write("hour  " + " ".join(f"{d:>4}" for d in DAYS))
        by_slot = {(h["weekday"], h["hour"]): h for h in plan["hours"]}
        for hour in range(24):
            out.write(f"{hour:02d}:00 " + " ".join(f"{by_slot[(d, hour)]['agents']:>4}" for d in range(7)))
        out.write(f"At most {plan['max_agents']} agent(s) at once; {plan['agent_hours_per_week']} agent-hours a week.")
        out.write(f"Coverage: {plan['coverage']}; planned for the busy weeks ({planner.BURST_PERCENTILE:.0%} of each "
                  "hour's weeks), not the average.")
        for note in plan["history"]["notes"]:
            out.write(f"History too short: {note}")
        check = plan.get("verification")
        if not check:
            return
        out.write(
            f"Verified in the simulator ({check['engine']} engine, handling lognormal sigma {check['handle_spread']}): "
            f"{check['rounds']} round(s) of raising; Erlang C alone asked for {check['erlang_agent_hours_per_week']} "
            f"agent-hours a week, the plan {check['agent_hours_per_week']}."
        )
        for name, figures in (("history", check["in_sample"]), ("backtest, last week", check["held_out"])):
            if not figures:
                out.write(f"  {name}: none")
                continue
            line = (
                f"  {name} {figures['from'][:10]} to {figures['to'][:10]}: {figures['turns']} turns, "
                f"{_share(figures['within_target_share'])} within {plan['target_seconds'] / 60:g} min "
                f"(p90 {_minutes(figures['first_response_p90_s'])}), longest silence "
                f"{_minutes(figures['max_silence_s'])}, {figures['agent_hours']} agent-hours, "
                f"estimates within 2x {_share(figures['estimate_within_2x_share'])} "
                f"(median ratio {figures['estimate_ratio_median']})"
            )
            if "planned_from" in figures:
                line += (
                    f"; planned without it from {figures['planned_from'][:10]} to {figures['planned_to'][:10]}, "
                    f"{figures['plan_agent_hours_per_week']} agent-hours a week"
                )
            if "model_estimate_within_2x_share" in figures:
                line += f"; {_share(figures['model_estimate_within_2x_share'])} without calibration"
            out.write(line)
        if not check["met"]:
            out.write(f"The target was NOT met after {check['rounds']} rounds: see the hours above.")


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:.1f} min"


@contextmanager
def _progress(enabled: bool) -> Iterator[planner.Progress | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("Replaying the history", total=planner.MAX_ROUNDS)

        def update(stage: str, done: int, total: int) -> None:
            labels = {
                "verify": f"Replaying the history, round {done + 1}",
                "backtest": f"Backtest: planning the weeks before the last one, round {done + 1}",
                "held out": "Backtest: replaying the last week",
            }
            bar.update(task, description=labels.get(stage, stage), completed=done, total=total)

        yield update
