"""Charts as geometry computed here and drawn by SVG templates: no JavaScript, embeddable anywhere.

Views pass the result to `templates/charts/*.svg`, either inline in a page or as a standalone
`image/svg+xml` download; both come from the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

WIDTH = 360  # user units: on a 360 px phone the chart is drawn near 1:1, its 12 px text legible
LABEL_WIDTH = 92
VALUE_WIDTH = 130
ROW_HEIGHT = 22
BAR_HEIGHT = 15


@dataclass
class BarChart:
    title: str
    description: str
    rows: list = field(default_factory=list)
    width: int = WIDTH
    label_width: int = LABEL_WIDTH

    @property
    def height(self) -> int:
        return max(1, len(self.rows)) * ROW_HEIGHT + 8


def bar_chart(title: str, description: str, items: list[tuple[str, int, str]], format_value) -> BarChart:
    """Horizontal bars, one per (label, value, link) above zero, longest first; value labels pre-formatted.

    Narrow (440 units) so that on a 360 px phone the text stays readable when the SVG scales down.
    """
    items = sorted((item for item in items if item[1]), key=lambda item: item[1], reverse=True)
    top = max((value for _, value, _ in items), default=0) or 1
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    rows = []
    for index, (label, value, href) in enumerate(items):
        y = 4 + index * ROW_HEIGHT
        rows.append({"label": label, "value": value, "text": format_value(value), "href": href,
                     "y": y, "text_y": y + BAR_HEIGHT - 3, "bar_height": BAR_HEIGHT,
                     "bar_width": max(1, round(span * value / top)) if value else 0,
                     "value_x": LABEL_WIDTH + (round(span * value / top) if value else 0) + 6})
    return BarChart(title, description, rows)


@dataclass
class StepChart:
    title: str
    description: str
    points: str
    area: str
    labels: list
    width: int = WIDTH
    height: int = 180


def step_chart(title: str, description: str, steps: list[tuple[date, int]], end: date, format_value,
               format_day) -> StepChart:
    """A step line of a value that holds from each date until the next one (intervals), up to `end`."""
    left, right, top, bottom = 8, WIDTH - 8, 24, 150
    if not steps:
        return StepChart(title, description, "", "", [])
    first = steps[0][0].toordinal()
    span_days = max(1, end.toordinal() - first)
    highest = max(value for _, value in steps) or 1

    def x(day: date) -> float:
        return round(left + (right - left) * (day.toordinal() - first) / span_days, 1)

    def y(value: int) -> float:
        return round(bottom - (bottom - top) * value / highest, 1)

    coords = []
    for index, (day, value) in enumerate(steps):
        until = steps[index + 1][0] if index + 1 < len(steps) else end
        coords += [(x(day), y(value)), (x(until), y(value))]
    points = " ".join(f"{a},{b}" for a, b in coords)
    area = f"{coords[0][0]},{bottom} {points} {coords[-1][0]},{bottom}"
    labels = [{"x": left, "y": 14, "text": format_value(highest), "anchor": "start"},
              {"x": left, "y": bottom + 20, "text": format_day(steps[0][0]), "anchor": "start"},
              {"x": right, "y": bottom + 20, "text": format_day(end), "anchor": "end"}]
    return StepChart(title, description, points, area, labels)
