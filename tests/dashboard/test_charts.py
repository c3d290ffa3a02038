"""Server-drawn SVG bar charts: valid XML, one bar per bucket, accessible, no style attributes."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest

from pledge.dashboard import charts
from pledge.dashboard.charts import Bar

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 - our own output


def bars_of(svg: ET.Element) -> list[ET.Element]:
    return [rect for rect in svg.iter(f"{SVG}rect") if rect.get("class") == "bar"]


def chart(bars: list[Bar], **kwargs: str) -> ET.Element:
    options = {
        "chart_id": "c",
        "title": "Supporters per day",
        "desc": "A description",
        "x_label": "Day",
        "y_label": "Supporters",
    }
    options.update(kwargs)
    return parse(charts.bar_chart(bars, **options))


def test_one_bar_per_bucket_with_its_value() -> None:
    data = [Bar("1 Mar", 3, "1 Mar"), Bar("2 Mar", 0), Bar("3 Mar", 12, "3 Mar")]
    svg = chart(data)
    rects = bars_of(svg)
    assert [(r.get("data-label"), int(r.get("data-value") or -1)) for r in rects] == [
        ("1 Mar", 3),
        ("2 Mar", 0),
        ("3 Mar", 12),
    ]
    heights = [float(r.get("height") or 0) for r in rects]
    assert heights[1] == 0
    assert heights[2] == pytest.approx(heights[0] * 4)
    # Bars stand on one baseline, left to right, without overlapping.
    bottoms = {round(float(r.get("y") or 0) + float(r.get("height") or 0), 2) for r in rects}
    assert len(bottoms) == 1
    xs = [float(r.get("x") or 0) for r in rects]
    assert xs == sorted(xs)
    assert all(b - a > float(rects[0].get("width") or 0) for a, b in itertools.pairwise(xs))


def test_the_chart_is_an_accessible_image_with_axis_labels() -> None:
    svg = chart(
        [Bar("1 Mar", 5, "1 Mar")], chart_id="days", title="Per day <WIB>", desc="Five & more"
    )
    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "days-title days-desc"
    title = svg.find(f"{SVG}title")
    desc = svg.find(f"{SVG}desc")
    assert title is not None and title.get("id") == "days-title"
    assert title.text == "Per day <WIB>"  # escaped in the markup, intact once parsed
    assert desc is not None and desc.text == "Five & more"
    texts = [t.text for t in svg.iter(f"{SVG}text")]
    assert "Day" in texts and "Supporters" in texts  # the axis titles
    assert "1 Mar" in texts  # the label under the bar
    assert texts[:4] == ["0", "2", "4", "6"]  # the value axis, up past the largest bar


def test_no_inline_styles_and_no_scripts() -> None:
    svg = chart([Bar(f"d{i}", i) for i in range(30)])
    for element in svg.iter():
        assert "style" not in element.attrib
        assert not element.tag.endswith(("script", "style", "foreignObject"))
        assert not any(name.startswith("on") for name in element.attrib)


def test_labels_are_escaped() -> None:
    svg = chart([Bar('<script>"x"</script>', 1, "<b>")])
    assert svg.find(f".//{SVG}script") is None
    assert bars_of(svg)[0].get("data-label") == '<script>"x"</script>'


def test_an_empty_window_still_draws_its_axes() -> None:
    svg = chart([Bar(f"h{i}", 0) for i in range(48)])
    assert len(bars_of(svg)) == 48
    assert all(float(r.get("height") or 0) == 0 for r in bars_of(svg))


@pytest.mark.parametrize(
    ("largest", "step"), [(0, 1), (3, 1), (4, 1), (5, 2), (10, 5), (13, 5), (99, 50), (1234, 500)]
)
def test_nice_steps(largest: int, step: int) -> None:
    assert charts.nice_step(largest) == step
    assert -(-largest // step) <= 4  # at most four steps up to the largest value


def test_description_names_the_total_and_the_peak() -> None:
    text = charts.describe([Bar("1 Mar", 2), Bar("2 Mar", 7), Bar("3 Mar", 1)], period="3 days")
    assert "10" in text and "7" in text and "2 Mar" in text
    assert "1 Mar" in text and "3 Mar" in text
