"""Server-side SVG charts as plain numbers for the template to draw (no script, no CDN). Pure."""

from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT, PAD_LEFT, PAD_BOTTOM, PAD_TOP = 320, 120, 22, 16, 10


@dataclass(frozen=True, slots=True)
class BarShape:
    x: float
    y: float
    w: float
    h: float
    label: str
    value: int
    current: bool


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    bars: list[BarShape]
    target_y: float | None  # a horizontal line at the per-month target, when there is one
    top: int
    baseline: float


def bar_chart(values: list[int], labels: list[str], *, target: int | None = None,
              current: int | None = None) -> BarChart:
    """Bars for `values`, scaled to the larger of the top value and the target line."""
    top = max([*values, target or 0, 1])
    plot_h = HEIGHT - PAD_BOTTOM - PAD_TOP
    step = (WIDTH - PAD_LEFT) / max(len(values), 1)
    bars = []
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        h = plot_h * value / top
        bars.append(BarShape(PAD_LEFT + i * step + step * 0.15, PAD_TOP + plot_h - h, step * 0.7, h, label, value,
                             i == current))
    target_y = PAD_TOP + plot_h - plot_h * target / top if target else None
    return BarChart(WIDTH, HEIGHT, bars, target_y, top, PAD_TOP + plot_h)
