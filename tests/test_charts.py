"""The SVG charts: well-formed, accessible, escaped, localised."""

import xml.etree.ElementTree as ET

from django.utils import translation
from django.utils.safestring import SafeString

from adesso.lib.charts import bar_chart, format_number, line_chart, nice_step

SVG = "{http://www.w3.org/2000/svg}"


def parse(html: str) -> ET.Element:
    return ET.fromstring(html)


def svg_of(figure: ET.Element) -> ET.Element:
    svg = figure.find(f"{SVG}svg")
    assert svg is not None
    return svg


def test_grouped_bars_one_per_series_and_label():
    html = bar_chart(["≤ 5 min", "≤ 15 min", "≤ 1 h"], {"Email": [3, 5, 1], "Chat": [7, 0, 2]},
                     title="First responses", unit="conversations")
    assert isinstance(html, SafeString)
    figure = parse(html)
    svg = svg_of(figure)
    assert svg.get("role") == "img"
    title = svg.find(f"{SVG}title")
    assert title is not None and title.text == "First responses"
    assert set(svg.get("aria-labelledby", "").split()) == {title.get("id"), svg.find(f"{SVG}desc").get("id")}
    bars = svg.findall(f".//{SVG}rect")
    assert len(bars) == 6
    # Side by side: within a label, Chat's bar is to the right of Email's.
    assert float(bars[1].get("x")) > float(bars[0].get("x"))
    assert {b.get("class").split()[-1] for b in bars} == {"chart-s0", "chart-s1"}
    # The zero bar is there but flat; the tallest is Chat's 7.
    heights = [float(b.get("height")) for b in bars]
    assert heights[3] == 0 and max(heights) == heights[1]
    legend = [li.itertext() for li in figure.iter("li")]
    assert ["".join(t) for t in legend] == ["Email", "Chat"]
    table = figure.find("div/table")
    assert figure.find("div").get("class") == "visually-hidden"
    rows = [[c.text for c in tr] for tr in table.iter("tr")]
    assert rows[0] == [None, "Email", "Chat"]
    assert rows[1] == ["≤ 5 min", "3 conversations", "7 conversations"]
    # Few bars: each carries its value, readable without colours.
    values = [t.text for t in svg.iter(f"{SVG}text") if "chart-value" in (t.get("class") or "")]
    assert values == ["3", "7", "5", "0", "1", "2"]


def test_stacked_bars_sit_on_each_other():
    svg = svg_of(parse(bar_chart(["a"], {"x": [2], "y": [3]}, title="t", stacked=True)))
    low, high = svg.findall(f".//{SVG}rect")
    assert abs(float(high.get("y")) + float(high.get("height")) - float(low.get("y"))) < 0.2
    assert float(low.get("x")) == float(high.get("x"))


def test_labels_and_titles_are_escaped():
    evil = '<script>alert("x")</script>'
    html = str(bar_chart([evil], {evil: [1]}, title=evil, unit="&"))
    assert "<script>" not in html
    figure = parse(html)
    assert figure.find("figcaption").text == evil
    assert svg_of(figure).find(f"{SVG}title").text == evil
    assert figure.find("div/table/tbody/tr/th").text == evil
    html = str(line_chart([evil], {evil: [1]}, title=evil))
    assert "<script>" not in html
    parse(html)


def test_line_chart_points_and_gaps():
    svg = svg_of(parse(line_chart(["0", "1", "2", "3", "4"], {"backlog": [1, 2, float("nan"), 4, 5]},
                                  title="Backlog")))
    lines = svg.findall(f".//{SVG}polyline")
    assert [len(line.get("points").split()) for line in lines] == [2, 2]
    assert len(svg.findall(f".//{SVG}circle")) == 4
    # Higher values sit higher (smaller y).
    ys = [float(c.get("cy")) for c in svg.findall(f".//{SVG}circle")]
    assert ys == sorted(ys, reverse=True)


def test_numbers_follow_the_active_language():
    with translation.override("it"):
        assert format_number(1234.5, 1) == "1.234,5"
        html = str(bar_chart(["a"], {"s": [12.5]}, title="t", unit="%"))
        assert "12,5 %" in html
    with translation.override("en"):
        assert format_number(1234.5, 1) == "1,234.5"


def test_axis_ticks_are_round_and_cover_the_data():
    assert nice_step(97) == 25
    assert nice_step(8) == 2
    svg = svg_of(parse(bar_chart(["a", "b"], {"s": [0, 97]}, title="t")))
    ticks = [t.text for t in svg.iter(f"{SVG}text") if "chart-tick" in (t.get("class") or "")]
    assert ticks == ["0", "25", "50", "75", "100"]


def test_empty_chart_says_so():
    figure = parse(bar_chart([], {}, title="Nothing"))
    assert any("No data" in (p.text or "") for p in figure.iter("p"))


def test_many_labels_are_thinned():
    labels = [f"{h:02d}:00" for h in range(168)]
    svg = svg_of(parse(line_chart(labels, {"s": list(range(168))}, title="Week")))
    shown = [t for t in svg.iter(f"{SVG}text") if "chart-label" in (t.get("class") or "")]
    assert 6 <= len(shown) <= 12
    wide = svg_of(parse(line_chart(labels, {"s": list(range(168))}, title="Week", width=1120)))
    assert len([t for t in wide.iter(f"{SVG}text") if "chart-label" in (t.get("class") or "")]) > len(shown)


def test_long_labels_wrap_on_two_lines_when_few():
    labels = ["≤ 5 min", "5-15 min", "15-30 min", "30-60 min", "1-2 h", "2-4 h", "4-24 h", "> 24 h"]
    svg = svg_of(parse(bar_chart(labels, {"s": [1] * 8}, title="t")))
    shown = [t for t in svg.iter(f"{SVG}text") if "chart-label" in (t.get("class") or "")]
    assert len(shown) == 8
    assert [s.text for s in shown[2]] == ["15-30", "min"]
    assert [s.text for s in shown[4]] == ["1-2 h"]


def test_a_bounded_score_is_drawn_on_its_own_scale():
    # A mean score of 1 to 5 on an axis running to 6 reads as "room above the best".
    svg = svg_of(parse(line_chart(["lun", "mar"], {"Email": [5, 3.5]}, title="CSAT", axis=(1, 5, 1))))
    ticks = [t.text for t in svg.iter(f"{SVG}text") if "chart-tick" in (t.get("class") or "")]
    assert ticks == ["1", "2", "3", "4", "5"]
    top, low = (float(c.get("cy")) for c in svg.findall(f".//{SVG}circle"))
    assert top < low
    unbounded = svg_of(parse(line_chart(["lun", "mar"], {"Email": [5, 3.5]}, title="CSAT")))
    assert [t.text for t in unbounded.iter(f"{SVG}text") if "chart-tick" in (t.get("class") or "")][-1] == "6"
