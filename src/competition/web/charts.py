"""Charts as server-rendered SVG: no script, readable by screen readers through a title and a
description (the numbers are also in a table next to each chart), coloured by CSS classes."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
from markupsafe import Markup, escape

WIDTH = 640
LABEL_WIDTH = 190
ROW_HEIGHT = 28
BAR_HEIGHT = 18


class Series(msgspec.Struct, frozen=True):
    label: str
    css_class: str


class Bar(msgspec.Struct, frozen=True):
    label: str
    values: tuple[int, ...]


def _clip(text: str, limit: int = 26) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def stacked_bars(
    *,
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    series: Sequence[Series],
    number: str = "{}",
) -> Markup:
    """Horizontal stacked bars, one row per bar, scaled to the largest total."""
    legend_height = 30
    height = legend_height + max(len(bars), 1) * ROW_HEIGHT + 8
    largest = max((sum(b.values) for b in bars), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 60
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-d">{escape(description)}</desc>',
    ]
    x = 0
    for s in series:
        parts.append(
            f'<rect x="{x}" y="6" width="14" height="14" class="{escape(s.css_class)}"/>'
            f'<text x="{x + 20}" y="18" class="chart-label">{escape(s.label)}</text>'
        )
        x += 32 + 8 * len(s.label)
    for row, bar in enumerate(bars):
        y = legend_height + row * ROW_HEIGHT
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 14}" text-anchor="end" class="chart-label">'
            f"{escape(_clip(bar.label))}</text>"
        )
        offset = float(LABEL_WIDTH)
        for value, s in zip(bar.values, series, strict=True):
            if value <= 0:
                continue
            width = span * value / largest
            parts.append(
                f'<rect x="{offset:.1f}" y="{y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
                f'class="{escape(s.css_class)}"/>'
            )
            offset += width
        parts.append(
            f'<text x="{offset + 6:.1f}" y="{y + 14}" class="chart-value">'
            f"{escape(number.format(sum(bar.values)))}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text is escaped above
