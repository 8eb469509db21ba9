"""Bar charts as plain data for the SVG in `_macros.html`: server-rendered, no chart library, no script, no
inline style (the CSP forbids them); colours come from CSS classes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BAR_HEIGHT = 22
"""Pixels per bar, gap included."""
LABEL_WIDTH = 190
"""Pixels left of the bars for their labels."""
BAR_SPACE = 320
"""Pixels the longest bar takes."""


@dataclass(frozen=True)
class Bar:
    """One bar of a horizontal bar chart."""

    label: str
    """Text left of the bar."""
    value: int
    """The count it shows."""
    css: str
    """CSS class of the bar (its colour)."""
    y: int
    """Top of the bar, in pixels."""
    width: int
    """Length of the bar, in pixels (at least 1 for a non-zero value)."""


@dataclass(frozen=True)
class BarChart:
    """A horizontal bar chart's geometry."""

    title: str
    """Accessible name of the chart."""
    bars: tuple[Bar, ...]
    """The bars, top to bottom."""
    height: int
    """SVG height in pixels."""
    width: int = LABEL_WIDTH + BAR_SPACE + 70
    """SVG width in pixels (room for the value after the longest bar)."""
    label_width: int = LABEL_WIDTH
    """Where bars start."""


def bar_chart(title: str, values: Sequence[tuple[str, int, str]]) -> BarChart:
    """(label, value, css class) rows as a chart scaled to the largest value."""
    top = max((v for _, v, _ in values), default=0)
    bars = tuple(
        Bar(label, value, css, i * BAR_HEIGHT, max(1, round(value / top * BAR_SPACE)) if value and top else 0)
        for i, (label, value, css) in enumerate(values)
    )
    return BarChart(title, bars, max(1, len(bars)) * BAR_HEIGHT)
