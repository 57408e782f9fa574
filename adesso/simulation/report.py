"""The figures of a simulation as a table for people (the JSON is for programs)."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console
from rich.table import Table


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def share(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def table(result: dict[str, Any], color: bool = False) -> str:
    out = io.StringIO()
    console = Console(file=out, width=110, force_terminal=color, color_system="standard" if color else None)
    grid = Table(title=f"Within {duration(result['target_s'])}: {result['turns']} customer turns")
    for name in ("channel", "turns", "within target", "first response p50", "p90", "max", "max silence"):
        grid.add_column(name, justify="left" if name == "channel" else "right")
    rows = [("all", result, result["turns"])]
    rows += [
        (name, figures, result["turns_per_channel"].get(name, 0)) for name, figures in result["per_channel"].items()
    ]
    for name, figures, turns in rows:
        grid.add_row(
            name,
            str(turns),
            share(figures["within_target_share"]),
            duration(figures["first_response_p50_s"]),
            duration(figures["first_response_p90_s"]),
            duration(figures["first_response_max_s"]),
            duration(figures["max_silence_s"]),
        )
    console.print(grid)
    agents = "by the hour (--staffing)" if result["staffing"] else str(result["agents"])
    lines = [
        f"Agents: {agents}; arrivals: {result['arrivals']} ({result['arrivals_per_hour']}/h), "
        f"handling {result['handle_minutes']} min on average",
        f"Offered load: {share(result['offered_load'])}; agents busy {share(result['utilisation'])} of their "
        "online time",
        f"Acknowledgements: {result['acknowledgements']} ({share(result['acknowledged_share'])} of turns), "
        f"updates: {result['updates']}; longest quiet between two messages back: "
        f"{duration(result['longest_quiet_s'])}",
        f"Estimates within a factor of 2 of the wait: {share(result['estimate_within_2x_share'])} "
        f"of {result['estimates_compared']} (median ratio {result['estimate_ratio_median'] or '-'})",
        f"Simulated {result['simulated_from']} to {result['simulated_to']} in {result['wall_seconds']} s "
        f"({result.get('engine', 'full')} engine)",
    ]
    if result["unanswered_at_end"]:
        lines.append(f"Still unanswered at the end: {result['unanswered_at_end']} turns")
    for line in lines:
        console.print(line, highlight=False)
    return out.getvalue()
