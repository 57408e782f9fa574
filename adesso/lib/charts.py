"""Server-side SVG charts: no JavaScript, readable in print and by screen readers.

Every chart is a `<figure class="chart">` holding a visible title, the SVG
(`role="img"` with `<title>` and `<desc>`, a `<title>` tooltip on each mark), an
HTML legend and a visually hidden table of the same numbers. Colours come from
CSS classes `chart-s0`..`chart-s7` (custom properties `--chart-1`..`--chart-8`
in adesso.css); the SVG also carries fallback fill/stroke attributes, so a chart
keeps its colours where the stylesheet is absent (an email). Numbers are
formatted for the active locale ("1.234,5" in Italian).

Labels and titles are user data (channel and team names): every one is escaped.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# A count's text with its noun in the right number: lambda n: ngettext("%(n)s breach", ...).
CountText = Callable[[float], str]

# Fallback colours, in the order of the CSS custom properties --chart-1..--chart-8.
PALETTE = ("#0f766e", "#3f4fa8", "#c2410c", "#7c3aed", "#b45309", "#be185d", "#15803d", "#475569")

WIDTH = 560  # the default; a full-width chart asks for more (`width=`)
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 58
MAX_LABEL_CHARS = 16
CHAR_PX = 7.0  # about how wide a character of a 12px label is


def format_number(value: float, decimals: int | None = None) -> str:
    """A number for the active locale, with at most `decimals` places (auto when None)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if decimals is None:
        decimals = 0 if float(value).is_integer() or abs(value) >= 100 else 1
    return str(number_format(round(value, decimals), decimal_pos=decimals, use_l10n=True, force_grouping=True))


def nice_step(span: float, ticks: int = 4, integer: bool = False) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` intervals.
    `integer`: a whole step of at least 1 (no 2.5), for counts."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    if integer and raw <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * power and not (integer and not float(mult * power).is_integer()):
            return mult * power
    return 10 * power  # pragma: no cover - the loop always returns


@dataclass(frozen=True)
class _Scale:
    low: float
    high: float
    step: float

    @classmethod
    def for_values(cls, values: Sequence[float], integer: bool = False) -> _Scale:
        """`integer`: ticks only on whole numbers (counts: no "0,5 conversations");
        also chosen when every value is whole."""
        finite = [v for v in values if not math.isnan(v)]
        integer = integer or all(float(v).is_integer() for v in finite)
        low = min([0.0, *finite])
        high = max([0.0, *finite])
        if high == low:
            high = low + 1
        step = nice_step(high - low, integer=integer)
        return cls(math.floor(low / step) * step, math.ceil(high / step) * step, step)

    def y(self, value: float) -> float:
        plot = HEIGHT - TOP - BOTTOM
        return TOP + plot * (1 - (value - self.low) / (self.high - self.low))

    def ticks(self) -> list[float]:
        count = round((self.high - self.low) / self.step)
        return [self.low + i * self.step for i in range(count + 1)]


def _clean(series: dict[str, list[float]], n: int) -> dict[str, list[float]]:
    """Each series as n floats; a missing or non-numeric value is NaN (a gap, or no bar)."""
    out: dict[str, list[float]] = {}
    for name, values in series.items():
        row = []
        for i in range(n):
            v = values[i] if i < len(values) else None
            try:
                row.append(float(v) if v is not None else math.nan)
            except (TypeError, ValueError):
                row.append(math.nan)
        out[str(name)] = row
    return out


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def _lines(label: str, room: float) -> tuple[str, ...]:
    """A label on one line, or on two (split at the space nearest the middle) when it
    is wider than the room it has and can be split."""
    if len(label) * CHAR_PX + 12 <= room or " " not in label:
        return (label,)
    spaces = [i for i, c in enumerate(label) if c == " "]
    cut = min(spaces, key=lambda i: abs(i - len(label) / 2))
    return (label[:cut], label[cut + 1 :])


def _value_text(value: float, unit: str, count: CountText | None = None) -> str:
    if count is not None and not math.isnan(value):
        return count(value)
    text = format_number(value)
    return f"{text} {unit}" if unit else text


def _frame(scale: _Scale, labels: list[str], centres: list[float], unit: str, x_label: str,
           width: int) -> list[str]:
    """Grid lines, y ticks, x labels (thinned when crowded) and the axis titles."""
    parts = []
    for tick in scale.ticks():
        y = scale.y(tick)
        parts.append(
            f'<line class="chart-grid" x1="{LEFT}" x2="{width - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#dde2e7"/>'
            f'<text class="chart-tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="12">{escape(format_number(tick))}</text>'
        )
    base = scale.y(max(scale.low, 0.0))
    parts.append(f'<line class="chart-axis" x1="{LEFT}" x2="{width - RIGHT}" y1="{base:.1f}" '
                 f'y2="{base:.1f}" stroke="#66727f"/>')
    lines = [_lines(_short(label), (width - LEFT - RIGHT) / max(1, len(labels))) for label in labels]
    longest = max((len(line) for pair in lines for line in pair), default=1)
    # Labels that still do not fit side by side: show every n-th (hours of a week).
    every = max(1, math.ceil(len(labels) * (longest * CHAR_PX + 12) / (width - LEFT - RIGHT)))
    for i, (pair, x) in enumerate(zip(lines, centres, strict=True)):
        if i % every:
            continue
        spans = "".join(
            f'<tspan x="{x:.1f}" dy="{0 if j == 0 else 14}">{escape(line)}</tspan>' for j, line in enumerate(pair))
        parts.append(f'<text class="chart-label" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                     f'font-size="12">{spans}</text>')
    if x_label:
        parts.append(f'<text class="chart-axis-title" x="{(LEFT + width - RIGHT) / 2:.1f}" y="{HEIGHT - 8}" '
                     f'text-anchor="middle" font-size="13">{escape(x_label)}</text>')
    if unit:
        mid = (TOP + HEIGHT - BOTTOM) / 2
        parts.append(f'<text class="chart-axis-title" x="14" y="{mid:.1f}" text-anchor="middle" font-size="13" '
                     f'transform="rotate(-90 14 {mid:.1f})">{escape(unit)}</text>')
    return parts


def _figure(title: str, svg_body: list[str], labels: list[str], series: dict[str, list[float]],
            unit: str, x_label: str, kind: str, width: int, count: CountText | None = None) -> SafeString:
    uid = "chart-" + secrets.token_hex(4)
    names = list(series)
    desc = ngettext(
        "%(kind)s of %(series)s over %(count)d category.", "%(kind)s of %(series)s over %(count)d categories.",
        len(labels),
    ) % {"kind": kind, "series": ", ".join(names) or "-", "count": len(labels)}
    svg = (
        f'<svg class="chart-svg" viewBox="0 0 {width} {HEIGHT}" role="img" '
        f'aria-labelledby="{uid}-t {uid}-d" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, sans-serif" preserveAspectRatio="xMidYMid meet">'
        f'<title id="{uid}-t">{escape(title)}</title><desc id="{uid}-d">{escape(desc)}</desc>'
        + "".join(svg_body) + "</svg>"
    )
    legend = "".join(
        f'<li><svg class="chart-swatch" width="12" height="12" aria-hidden="true">'
        f'<rect class="chart-s{i % len(PALETTE)}" width="12" height="12" rx="2" '
        f'fill="{PALETTE[i % len(PALETTE)]}"/></svg>{escape(name)}</li>'
        for i, name in enumerate(names)
    )
    head = "".join(f'<th scope="col">{escape(name)}</th>' for name in names)
    rows = "".join(
        f'<tr><th scope="row">{escape(label)}</th>'
        + "".join(f"<td>{escape(_value_text(series[name][i], unit, count))}</td>" for name in names)
        + "</tr>"
        for i, label in enumerate(labels)
    )
    # In a hidden div, not a hidden table: a table grows to its content whatever its height.
    table = (f'<div class="visually-hidden"><table><caption>{escape(title)}</caption>'
             f'<thead><tr><th scope="col">{escape(x_label)}</th>{head}</tr></thead><tbody>{rows}</tbody></table></div>')
    nothing = _("No data for this period.")
    empty = "" if labels and names else f'<p class="chart-empty">{escape(nothing)}</p>'
    return mark_safe(  # noqa: S308 - every piece of user text above is escaped
        f'<figure class="chart" id="{uid}"><figcaption class="chart-title">{escape(title)}</figcaption>'
        f'{svg}{empty}<ul class="chart-legend" aria-hidden="true">{legend}</ul>{table}</figure>'
    )


def bar_chart(labels: list[str], series: dict[str, list[float]], *, title: str, unit: str = "",
              stacked: bool = False, x_label: str = "", width: int = WIDTH,
              count: CountText | None = None, measure: CountText | None = None) -> SafeString:
    """Bars per label: one bar per series side by side (grouped), or one stacked bar.
    With few bars each carries its value, so the chart reads without colour (print).
    `count`: the values are counts, written by this function ("1 breach", "2 breaches")
    where a value is shown with its noun; the axis then has whole ticks only. `measure`:
    the same for values that need not be whole ("1 minute", "1,5 minutes")."""
    integer, count = count is not None, count or measure
    labels = [str(label) for label in labels]
    data = _clean(series, len(labels))
    n, k = len(labels), max(1, len(data))
    if stacked:
        totals = [sum(v[i] for v in data.values() if not math.isnan(v[i])) for i in range(n)]
        scale = _Scale.for_values(totals, integer=integer)
    else:
        scale = _Scale.for_values([x for v in data.values() for x in v], integer=integer)
    plot_w = width - LEFT - RIGHT
    group_w = plot_w / max(1, n)
    centres = [LEFT + group_w * (i + 0.5) for i in range(n)]
    body = _frame(scale, labels, centres, unit, x_label, width)
    inner = group_w * 0.8
    bar_w = inner if stacked else inner / k
    show_values = n * k <= 16
    for i, label in enumerate(labels):
        base = scale.y(0.0)
        for j, (name, values) in enumerate(data.items()):
            value = values[i]
            if math.isnan(value):
                continue
            if stacked:
                top = base - (scale.y(0.0) - scale.y(value))
                x, y, h = centres[i] - inner / 2, min(top, base), abs(base - top)
                base = top
            else:
                y0, y1 = scale.y(0.0), scale.y(value)
                x, y, h = centres[i] - inner / 2 + j * bar_w, min(y0, y1), abs(y0 - y1)
            colour = j % len(PALETTE)
            tip = f"{label} · {name}: {_value_text(value, unit, count)}"
            body.append(
                f'<rect class="chart-bar chart-s{colour}" x="{x:.1f}" y="{y:.1f}" '
                f'width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" fill="{PALETTE[colour]}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            if show_values and not stacked:
                body.append(f'<text class="chart-value" x="{x + bar_w / 2:.1f}" y="{y - 4:.1f}" '
                            f'text-anchor="middle" font-size="12">{escape(format_number(value))}</text>')
    return _figure(title, body, labels, data, unit, x_label, _("Bar chart"), width, count)


def line_chart(labels: list[str], series: dict[str, list[float]], *, title: str, unit: str = "",
               x_label: str = "", width: int = WIDTH, count: CountText | None = None,
               axis: tuple[float, float, float] | None = None) -> SafeString:
    """One line per series over the labels (e.g. hours); NaN values leave a gap.
    `count`: as for bar_chart. `axis`: (low, high, step) of a bounded scale (a score
    from 1 to 5 is drawn from 1 to 5, not to the next round number)."""
    labels = [str(label) for label in labels]
    data = _clean(series, len(labels))
    n = len(labels)
    scale = (_Scale(*axis) if axis is not None
             else _Scale.for_values([x for v in data.values() for x in v], integer=count is not None))
    plot_w = width - LEFT - RIGHT
    step = plot_w / max(1, n - 1) if n > 1 else 0.0
    xs = [LEFT + step * i if n > 1 else LEFT + plot_w / 2 for i in range(n)]
    body = _frame(scale, labels, xs, unit, x_label, width)
    for j, (name, values) in enumerate(data.items()):
        colour = j % len(PALETTE)
        segments: list[list[str]] = [[]]
        for x, value in zip(xs, values, strict=True):
            if math.isnan(value):
                segments.append([])
            else:
                segments[-1].append(f"{x:.1f},{scale.y(value):.1f}")
        for points in segments:
            if len(points) > 1:
                body.append(f'<polyline class="chart-line chart-s{colour}" fill="none" stroke-width="2" '
                            f'stroke="{PALETTE[colour]}" points="{" ".join(points)}"/>')
        if n <= 48:
            for label, x, value in zip(labels, xs, values, strict=True):
                if math.isnan(value):
                    continue
                tip = f"{label} · {name}: {_value_text(value, unit, count)}"
                body.append(f'<circle class="chart-dot chart-s{colour}" cx="{x:.1f}" cy="{scale.y(value):.1f}" '
                            f'r="3" fill="{PALETTE[colour]}"><title>{escape(tip)}</title></circle>')
    return _figure(title, body, labels, data, unit, x_label, _("Line chart"), width, count)
