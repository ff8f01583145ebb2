"""Server-rendered SVG charts: the geometry in Python, the markup in a template snippet.

No chart library and no JavaScript: the dashboard must render from the site alone (no CDN),
and a chart is a handful of rectangles and polylines. Colours are CSS classes (``series-N``)
so the admin's light and dark themes both apply.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

# In SVG user units; the SVG scales to its column, about 1:1 at the dashboard's two columns.
WIDTH = 480
HEIGHT = 200
LEFT, RIGHT, TOP, BOTTOM = 40, 8, 10, 22
PALETTE_SIZE = 6


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Line:
    name: str
    css_class: str
    paths: list[str]
    total: str = ""
    # Points with no neighbour to join: drawn as dots, a path through one point shows nothing.
    dots: list[tuple[float, float]] = field(default_factory=list)


@dataclass
class Chart:
    """Everything ``telemetry/snippets/chart.html`` needs to draw one chart."""

    title: str
    unit: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    empty: bool = False

    @property
    def plot_width(self) -> int:
        return self.plot_right - self.left

    @property
    def plot_height(self) -> int:
        return self.plot_bottom - self.plot_top


def nice_ceiling(value: float) -> float:
    """The smallest round number (1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6 or 8 times a power of ten)
    at least ``value``: the y axis ends close above the highest value, and its quarters
    stay readable numbers."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # unreachable: the loop ends at 10 x magnitude


def _format_number(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def _frame(chart: Chart, buckets: Sequence[datetime], top_value: float, *, daily: bool) -> float:
    """Fill in the axes (at most about eight x labels); returns the y scale's maximum."""
    maximum = nice_ceiling(top_value)
    chart.y_ticks = [
        Tick(
            position=chart.plot_bottom - chart.plot_height * step / 4,
            label=_format_number(maximum * step / 4),
        )
        for step in range(5)
    ]
    slot = chart.plot_width / max(len(buckets), 1)
    if daily:
        every = max(1, math.ceil(len(buckets) / 8))
        labelled = [(i, m, m.strftime("%b %d")) for i, m in enumerate(buckets) if i % every == 0]
    elif len(buckets) > 48:
        labelled = [(i, m, m.strftime("%a %d")) for i, m in enumerate(buckets) if m.hour == 0]
    else:
        every = max(1, math.ceil(len(buckets) / 8))
        labelled = [(i, m, m.strftime("%H:%M")) for i, m in enumerate(buckets) if i % every == 0]
    chart.x_ticks = [  # a label centred under its bucket
        Tick(position=chart.left + slot * (index + 0.5), label=label)
        for index, _, label in labelled
    ]
    return maximum


def bar_chart(
    *,
    title: str,
    unit: str,
    buckets: Sequence[datetime],
    values: Sequence[float],
    daily: bool = False,
) -> Chart:
    """One bar per bucket (hours, or days with ``daily``); missing buckets are zero."""
    chart = Chart(title=title, unit=unit, empty=not any(values))
    maximum = _frame(chart, buckets, max(values, default=0), daily=daily)
    when = "%Y-%m-%d" if daily else "%Y-%m-%d %H:00 UTC"
    slot = chart.plot_width / max(len(buckets), 1)
    gap = min(2.0, slot * 0.2)
    for index, (moment, value) in enumerate(zip(buckets, values, strict=True)):
        height = chart.plot_height * value / maximum
        chart.bars.append(
            Bar(
                x=round(chart.left + slot * index + gap / 2, 2),
                y=round(chart.plot_bottom - height, 2),
                width=round(max(slot - gap, 0.5), 2),
                height=round(height, 2),
                title=f"{moment.strftime(when)}: {value:,.0f} {unit}",
            )
        )
    return chart


def line_chart(
    *,
    title: str,
    unit: str,
    buckets: Sequence[datetime],
    series: Sequence[tuple[str, Sequence[float | None], str]],
) -> Chart:
    """One line per ``(name, values, total label)``; a None value breaks the line."""
    top = max((v for _, values, _ in series for v in values if v is not None), default=0)
    chart = Chart(title=title, unit=unit, empty=not top)
    maximum = _frame(chart, buckets, top, daily=False)
    slot = chart.plot_width / max(len(buckets), 1)
    for number, (name, values, total) in enumerate(series):
        runs: list[list[tuple[float, float]]] = [[]]
        for index, value in enumerate(values):
            if value is None:
                runs.append([])
                continue
            x = chart.left + slot * (index + 0.5)
            y = chart.plot_bottom - chart.plot_height * value / maximum
            runs[-1].append((round(x, 1), round(y, 1)))
        chart.lines.append(
            Line(
                name=name,
                css_class=f"series-{number % PALETTE_SIZE}",
                paths=["M" + " L".join(f"{x},{y}" for x, y in run) for run in runs if len(run) > 1],
                dots=[run[0] for run in runs if len(run) == 1],
                total=total,
            )
        )
    return chart
