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
PLOT_W = WIDTH - LEFT - RIGHT
PLOT_H = HEIGHT - TOP - BOTTOM
BASE = TOP + PLOT_H  # the y of the value 0
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


@dataclass(frozen=True, slots=True)
class _Frame:
    """Where a chart's bars go: the scale's top and step, and the slot each bar gets."""

    top: int  # the value at the top of the plot
    step: int  # between two grid lines
    slot: float  # the width given to each bar, gap included
    bar_w: float

    @classmethod
    def of(cls, bars: Sequence[BarData]) -> _Frame:
        largest = max((bar.count for bar in bars), default=0)
        step = nice_step(largest)
        slot = PLOT_W / max(len(bars), 1)
        return cls(
            top=max(step, step * math.ceil(largest / step)),
            step=step,
            slot=slot,
            bar_w=max(slot * 0.8, 1.0),
        )

    def y(self, value: float) -> float:
        return BASE - PLOT_H * value / self.top


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
    frame = _Frame.of(bars)
    e = escape
    parts: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{e(chart_id)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{e(chart_id)}-title {e(chart_id)}-desc" '
        f'font-family="system-ui, sans-serif" font-size="{FONT_SIZE}">',
        f'<title id="{e(chart_id)}-title">{e(title)}</title>',
        f'<desc id="{e(chart_id)}-desc">{e(desc)}</desc>',
        *_grid(frame),
        *_bars(bars, frame),
        *_axes(x_label=x_label, y_label=y_label),
        "</svg>",
    ]
    return Markup("".join(parts))  # noqa: S704 - every text and attribute here is escaped


def _grid(frame: _Frame) -> list[str]:
    """The horizontal grid lines and the values beside them."""
    ticks = range(0, frame.top + 1, frame.step)
    parts = [f'<g class="grid" stroke="{GRID_COLOUR}" stroke-width="1">']
    for tick in ticks:
        y = _fmt(frame.y(tick))
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}"/>')
    parts.append("</g>")
    parts.append(f'<g class="y-ticks" fill="{AXIS_COLOUR}" text-anchor="end">')
    for tick in ticks:
        parts.append(
            f'<text x="{LEFT - 6}" y="{_fmt(frame.y(tick) + 4)}">{escape(number(tick))}</text>'
        )
    parts.append("</g>")
    return parts


def _bars(bars: Sequence[BarData], frame: _Frame) -> list[str]:
    """One rectangle per bar, with its value in a tooltip, then the labels under them."""
    e = escape
    parts = [f'<g class="bars" fill="{BAR_COLOUR}">']
    for i, bar in enumerate(bars):
        x = LEFT + frame.slot * i + (frame.slot - frame.bar_w) / 2
        height = BASE - frame.y(bar.count)
        parts.append(
            f'<rect class="bar" x="{_fmt(x)}" y="{_fmt(BASE - height)}" '
            f'width="{_fmt(frame.bar_w)}" height="{_fmt(height)}" '
            f'data-label="{e(bar.label)}" data-value="{bar.count}">'
            f"<title>{e(bar.label)}: {e(number(bar.count))}</title></rect>"
        )
    parts.append("</g>")
    parts.append(f'<g class="x-ticks" fill="{AXIS_COLOUR}" text-anchor="middle">')
    for i, bar in enumerate(bars):
        if bar.short:
            x = LEFT + frame.slot * i + frame.slot / 2
            parts.append(f'<text x="{_fmt(x)}" y="{BASE + 16}">{e(bar.short)}</text>')
    parts.append("</g>")
    return parts


def _axes(*, x_label: str, y_label: str) -> list[str]:
    """The two axis lines and their titles."""
    return [
        f'<g class="axes" stroke="{AXIS_COLOUR}" stroke-width="1">'
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{BASE}" y2="{BASE}"/>'
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{BASE}"/></g>',
        f'<text class="axis-title" x="{LEFT + PLOT_W / 2:.0f}" y="{HEIGHT - 8}" '
        f'text-anchor="middle" fill="{TEXT_COLOUR}">{escape(x_label)}</text>',
        f'<text class="axis-title" transform="translate(14 {TOP + PLOT_H / 2:.0f}) '
        f'rotate(-90)" text-anchor="middle" fill="{TEXT_COLOUR}">{escape(y_label)}</text>',
    ]


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
