"""Markdown tables from the JSON results in bench/results/, for docs/performance.md.

.venv/bin/python -m bench.report              # the latest result of each setup
.venv/bin/python -m bench.report --since 1764000000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import RESULTS, table


def load(since: float) -> list[dict[str, Any]]:
    """The latest result of each benchmark and setup, among files written since `since`."""
    latest: dict[tuple[str, str, str], tuple[float, dict[str, Any]]] = {}
    for path in sorted(RESULTS.glob("*.json")):
        mtime = path.stat().st_mtime
        if mtime < since:
            continue
        data = json.loads(path.read_text())
        key = (data["bench"], data["database"], data.get("server", ""))
        at = time.mktime(time.strptime(data["at"], "%Y-%m-%d %H:%M:%S"))  # when it ran, not when copied
        if key not in latest or latest[key][0] <= at:
            latest[key] = (at, data)
    return [d for _, d in sorted(latest.values(), key=lambda item: item[0])]


def intake_tables(results: list[dict[str, Any]]) -> str:
    rows = []
    queries: dict[str, dict[str, int]] = {}
    for data in results:
        db = data["database"].split(" (")[0]
        queries.setdefault(db, data["queries_per_request"])
        for lv in data["levels"]:
            rows.append(
                [
                    db,
                    data["server"],
                    lv["clients"],
                    lv["ok_per_second"],
                    sum(n for code, n in lv["statuses"].items() if not code.startswith("2")),
                    lv["p50_ms"],
                    lv["p95_ms"],
                    lv["p99_ms"],
                    lv.get("server_cpu_ms_per_request", ""),
                    lv.get("db_cpu_ms_per_request", ""),
                    lv.get("other_cpu_share", ""),
                ]
            )
    out = [
        table(
            [
                "database",
                "server",
                "clients",
                "msgs/s",
                "failed",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "server CPU ms/msg",
                "db CPU ms/msg",
                "others' CPU",
            ],
            rows,
        )
    ]
    kinds = list(next(iter(queries.values()), {}))
    if kinds:
        out.append(table(["message", *queries], [[k, *(q.get(k, "") for q in queries.values())] for k in kinds]))
    return "\n\n".join(out)


def inbox_tables(results: list[dict[str, Any]]) -> str:
    rows, statements = [], []
    for data in results:
        db = data["database"].split(" (")[0]
        for r in data["results"]:
            rows.append([db, r["what"], r["p50_ms"], r["p95_ms"], r["p99_ms"], r["requests"], r["other_cpu_share"]])
        for p in data["plans"]:
            for s in p["statements"]:
                statements.append([db, p["scenario"], s["query"], s["ms"], ", ".join(s["warnings"]) or "-"])
    return "\n\n".join(
        [
            table(["database", "request", "p50 ms", "p95 ms", "p99 ms", "requests", "others' CPU"], rows),
            table(["database", "list", "query", "ms", "plan warnings"], statements),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--since", type=float, default=0.0, help="only results written after this Unix time")
    args = parser.parse_args(argv)
    results = load(args.since)
    if not results:
        print(f"No results in {Path(RESULTS)}: run `make bench` first.")
        return 1
    machine = results[-1]["machine"]
    print(f"Machine: {machine['cpus']} cores ({machine['cpu']}), {machine['memory']}, Python {machine['python']}\n")
    for data in results:
        if data["bench"] == "pipeline":
            from bench.pipeline import report as pipeline_report

            pipeline_report(data)
            print()
    intake = [d for d in results if d["bench"] == "intake"]
    inbox = [d for d in results if d["bench"] == "inbox"]
    if intake:
        print("Intake (POST /api/v1/inbound/{channel})\n")
        print(intake_tables(intake) + "\n")
    if inbox:
        convs = inbox[-1]["conversations"]
        print(f"Inbox at {convs:,} conversations ({inbox[-1]['clients']} client)\n")
        print(inbox_tables(inbox))
    return 0


if __name__ == "__main__":
    sys.exit(main())
