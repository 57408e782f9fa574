"""Traces of customer arrivals for `adesso simulate`: reading them, and building the shipped one.

A trace is a CSV with the header `timestamp,channel,contact,text`: one line per
customer message, ISO 8601 timestamps with a zone. The shipped example is built
from the real arrival times of customer tweets (TWCS) by `build_twcs_trace`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

HEADER = ["timestamp", "channel", "contact", "text"]
# Example traces live in the repository, not in the package: they are derived from
# evaluation data licensed for non-commercial use (examples/traces/README.md).
TRACES_DIR = Path(__file__).resolve().parents[2] / "examples" / "traces"
# Shipped traces that `--trace` also takes by name.
SHIPPED = {"twcs": TRACES_DIR / "twcs_sample.csv"}
CHANNEL_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_TEXT_CHARS = 10_000

# The shipped trace: three days of inbound customer tweets around the densest
# stretch of the TWCS head sample (2017-10-31 evening, UTC).
TWCS_FROM = dt.datetime(2017, 10, 30, tzinfo=dt.UTC)
TWCS_TO = dt.datetime(2017, 11, 2, tzinfo=dt.UTC)
# The customers' words are not shipped (the data's licence allows research use
# only): every line carries the same neutral English placeholder.
TWCS_TEXT = "Hello, I need some help with my account, please."


class TraceError(ValueError):
    """A trace that cannot be replayed; the text names the file and line."""


@dataclass(frozen=True)
class Arrival:
    at: dt.datetime
    channel: str
    contact: str
    text: str
    line: int  # in the file, for unique external ids and error messages


def resolve(name: str) -> Path:
    """The trace file for `--trace`: a path, or the name of a shipped trace."""
    path = Path(name).expanduser()
    if path.is_file():
        return path
    if name in SHIPPED:
        return SHIPPED[name]
    if path.exists():
        raise TraceError(f"{name}: not a file.")
    raise TraceError(f"{name}: no such file (shipped traces: {', '.join(sorted(SHIPPED))}).")


def parse_time(value: str) -> dt.datetime:
    """An ISO 8601 time with a zone offset (or Z), as an aware datetime."""
    try:
        at = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise TraceError(f"{value!r} is not an ISO 8601 time (e.g. 2017-10-31T22:10:47+00:00)") from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise TraceError(f"{value!r} has no time zone (add +00:00 or Z)")
    return at


def read(path: Path) -> list[Arrival]:
    """Every line of a trace, in time order (lines with the same time keep theirs)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return sorted(_rows(path, csv.reader(handle)), key=lambda a: a.at)
    except UnicodeDecodeError:
        raise TraceError(f"{path}: not UTF-8 text.") from None
    except csv.Error as exc:
        raise TraceError(f"{path}: not a readable CSV ({exc}).") from None
    except OSError as exc:
        raise TraceError(f"{path}: cannot be read ({exc.strerror}).") from None


def _rows(path: Path, reader: Iterable[list[str]]) -> list[Arrival]:
    rows = iter(reader)
    header = next(rows, None)
    if header is None:
        raise TraceError(f"{path}: empty file; the first line must be {','.join(HEADER)}.")
    if [h.strip().lstrip("\ufeff").lower() for h in header] != HEADER:
        raise TraceError(f"{path}: the first line must be {','.join(HEADER)}, not {','.join(header)}.")
    arrivals = []
    for number, row in enumerate(rows, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) != len(HEADER):
            raise TraceError(f"{path}, line {number}: {len(row)} fields, expected {len(HEADER)}.")
        stamp, channel, contact, text = (cell.strip() for cell in row)
        try:
            at = parse_time(stamp)
        except TraceError as exc:
            raise TraceError(f"{path}, line {number}: {exc}.") from None
        if not CHANNEL_RE.match(channel):
            raise TraceError(
                f"{path}, line {number}: channel {channel!r} must be 1-40 lowercase letters, digits, - or _."
            )
        if not contact or len(contact) > 200:
            raise TraceError(f"{path}, line {number}: the contact must be 1-200 characters.")
        arrivals.append(Arrival(at, channel, contact, text[:MAX_TEXT_CHARS] or "(no text)", number))
    if not arrivals:
        raise TraceError(f"{path}: no arrivals after the header.")
    return arrivals


def select(
    arrivals: list[Arrival],
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int | None = None,
    speedup: float = 1.0,
) -> list[Arrival]:
    """Part of a trace: arrivals in [start, end), the first `limit` of them, with the gaps
    between them divided by `speedup` (2 = twice the load)."""
    chosen = [a for a in arrivals if (start is None or a.at >= start) and (end is None or a.at < end)]
    if limit is not None:
        chosen = chosen[:limit]
    if speedup != 1.0 and chosen:
        origin = chosen[0].at
        chosen = [Arrival(origin + (a.at - origin) / speedup, a.channel, a.contact, a.text, a.line) for a in chosen]
    return chosen


def anonymous_contact(author_id: str) -> str:
    """A stable id that does not reveal the author (no handle, no number)."""
    return "c" + hashlib.sha256(f"twcs:{author_id}".encode()).hexdigest()[:12]


def build_twcs_trace(source: Path, output: Path, start: dt.datetime = TWCS_FROM, end: dt.datetime = TWCS_TO) -> int:
    """Write the shipped example trace from TWCS (`twcs_head_sample.csv`); returns the line count.

    Inbound customer tweets only, their real times in [start, end), channel `x`,
    the author as an anonymous stable id and a neutral placeholder for the text.
    """
    try:
        with source.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise TraceError(f"{source}: cannot be read ({exc.strerror}).") from None
    if not rows or not {"author_id", "inbound", "created_at"} <= set(rows[0]):
        raise TraceError(f"{source}: not a TWCS file (author_id, inbound, created_at columns).")
    lines = []
    for row in rows:
        if row["inbound"] != "True":
            continue
        at = dt.datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y")
        if start <= at < end:
            lines.append((at, anonymous_contact(row["author_id"])))
    lines.sort()
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows([at.isoformat(), "x", contact, TWCS_TEXT] for at, contact in lines)
    return len(lines)
