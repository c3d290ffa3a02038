"""Bar charts drawn on the server as inline SVG: no JavaScript, no style attributes (the CSP).

A chart is an image to the accessibility tree (role="img", with <title> and <desc>); the
page puts a table with the same numbers beside it for anyone who needs the figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from markupsafe import Markup, escape

from pledge.i18n import gettext as _
from pledge.i18n import ngettext, number

# Drawn at about the width of a page on a desktop; phones scale it down by less than half.
WIDTH = 480
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 14, 56
BAR_COLOUR = "#b3123b"
GRID_COLOUR = "#d8d8de"
AXIS_COLOUR = "#5a5a62"
TEXT_COLOUR = "#1d1d1f"
FONT_SIZE = 12


class BarData(Protocol):
    @property
    def label(self) -> str: ...
    @property
    def count(self) -> int: ...
    @property
    def short(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # in the bar's tooltip and the description
    count: int
    short: str = ""  # under the bar; empty for no label


def nice_step(largest: int, ticks: int = 4) -> int:
    """A step of 1, 2 or 5 times a power of ten giving at most `ticks` steps up to `largest`."""
    if largest <= ticks:
        return 1
    raw = largest / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return int(factor * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


def _fmt(value: float) -> str:
    """A coordinate with at most two decimals."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def bar_chart(
    bars: Sequence[BarData],
    *,
    chart_id: str,
    title: str,
    desc: str,
    x_label: str,
    y_label: str,
) -> Markup:
    """A vertical bar chart, one <rect class="bar"> per bar, with axes and their labels."""
    largest = max((bar.count for bar in bars), default=0)
    step = nice_step(largest)
    top = max(step, step * math.ceil(largest / step))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    base = TOP + plot_h
    slot = plot_w / max(len(bars), 1)
    bar_w = max(slot * 0.8, 1.0)

    def y(value: float) -> float:
        return base - plot_h * value / top

    e = escape
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{e(chart_id)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{e(chart_id)}-title {e(chart_id)}-desc" '
        f'font-family="system-ui, sans-serif" font-size="{FONT_SIZE}">',
        f'<title id="{e(chart_id)}-title">{e(title)}</title>',
        f'<desc id="{e(chart_id)}-desc">{e(desc)}</desc>',
        f'<g class="grid" stroke="{GRID_COLOUR}" stroke-width="1">',
    ]
    for tick in range(0, top + 1, step):
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_fmt(y(tick))}" y2="{_fmt(y(tick))}"/>'
        )
    parts.append("</g>")
    parts.append(f'<g class="y-ticks" fill="{AXIS_COLOUR}" text-anchor="end">')
    for tick in range(0, top + 1, step):
        parts.append(f'<text x="{LEFT - 6}" y="{_fmt(y(tick) + 4)}">{e(number(tick))}</text>')
    parts.append("</g>")

    parts.append(f'<g class="bars" fill="{BAR_COLOUR}">')
    for i, bar in enumerate(bars):
        x = LEFT + slot * i + (slot - bar_w) / 2
        height = base - y(bar.count)
        parts.append(
            f'<rect class="bar" x="{_fmt(x)}" y="{_fmt(base - height)}" '
            f'width="{_fmt(bar_w)}" height="{_fmt(height)}" '
            f'data-label="{e(bar.label)}" data-value="{bar.count}">'
            f"<title>{e(bar.label)}: {e(number(bar.count))}</title></rect>"
        )
    parts.append("</g>")

    parts.append(f'<g class="x-ticks" fill="{AXIS_COLOUR}" text-anchor="middle">')
    for i, bar in enumerate(bars):
        if bar.short:
            x = LEFT + slot * i + slot / 2
            parts.append(f'<text x="{_fmt(x)}" y="{base + 16}">{e(bar.short)}</text>')
    parts.append("</g>")

    parts.append(
        f'<g class="axes" stroke="{AXIS_COLOUR}" stroke-width="1">'
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}"/>'
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{base}"/></g>'
    )
    parts.append(
        f'<text class="axis-title" x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 8}" '
        f'text-anchor="middle" fill="{TEXT_COLOUR}">{e(x_label)}</text>'
    )
    parts.append(
        f'<text class="axis-title" transform="translate(14 {TOP + plot_h / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle" fill="{TEXT_COLOUR}">{e(y_label)}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text and attribute above is escaped


def describe(bars: Sequence[BarData], *, period: str) -> str:
    """The chart's description for people who cannot see it: the period, total and peak."""
    total = sum(bar.count for bar in bars)
    if not bars or total == 0:
        return _("No new supporters in %(period)s.") % {"period": period}
    peak = max(bars, key=lambda bar: bar.count)
    return ngettext(
        "%(total)s new supporter in %(period)s, from %(first)s to %(last)s. "
        "The highest was %(peak)s, at %(when)s.",
        "%(total)s new supporters in %(period)s, from %(first)s to %(last)s. "
        "The highest was %(peak)s, at %(when)s.",
        total,
    ) % {
        "total": number(total),
        "period": period,
        "first": bars[0].label,
        "last": bars[-1].label,
        "peak": number(peak.count),
        "when": peak.label,
    }


def per_day_chart(bars: Sequence[BarData], *, days: int) -> Markup:
    period = _("the last %(days)s days") % {"days": days}
    return bar_chart(
        bars,
        chart_id="chart-days",
        title=_("New supporters per day, last %(days)s days (WIB)") % {"days": days},
        desc=describe(bars, period=period),
        x_label=_("Day (WIB)"),
        y_label=_("Supporters"),
    )


def per_hour_chart(bars: Sequence[BarData], *, hours: int) -> Markup:
    period = _("the last %(hours)s hours") % {"hours": hours}
    return bar_chart(
        bars,
        chart_id="chart-hours",
        title=_("New supporters per hour, last %(hours)s hours (WIB)") % {"hours": hours},
        desc=describe(bars, period=period),
        x_label=_("Hour (WIB)"),
        y_label=_("Supporters"),
    )
