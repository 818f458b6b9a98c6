"""Small charts as inline SVG for the HTML report: no script, no font or file to fetch, figures as text.

Each builder returns one `<svg>` element as a string; every label and value is escaped and written as
`<text>`, so a PDF printed from the page keeps them as text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

INK = "#1F2933"
MUTED = "#616E7C"
GRID = "#E4E7EB"
THIS_WEEK = "#3E6FB0"
LAST_WEEK = "#B6C7DE"
OVER = "#C44E52"
PAGE = "#C44E52"
TICKET = "#D9822B"
INCIDENT = "#7B61A8"
FONT = "font-family:Helvetica,Arial,sans-serif"


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" style="{FONT}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _text(x: float, y: float, text: str, *, size: int = 11, fill: str = INK, anchor: str = "start") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" text-anchor="{anchor}">'
        f"{escape(text)}</text>"
    )


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # a share of the week's budget (1 = 100%); None: no data
    previous: float | None


def budget_bars(bars: Sequence[Bar], *, title: str, width: int = 640) -> str:
    """Horizontal bars: this week's budget spent (dark) over the week before's (light), a line at 100%."""
    label_w, right_w, row_h = 150, 120, 30
    plot_w = width - label_w - right_w
    top = 22
    height = top + row_h * len(bars) + 24
    known = [v for b in bars for v in (b.value, b.previous) if v is not None]
    scale_max = max([1.0, *known]) * 1.05

    def x(value: float) -> float:
        return label_w + plot_w * min(value, scale_max) / scale_max

    body = [_text(0, 14, title, size=12)]
    limit = x(1.0)
    body.append(
        f'<line x1="{limit:.1f}" y1="{top - 4}" x2="{limit:.1f}" y2="{top + row_h * len(bars)}" '
        f'stroke="{OVER}" stroke-dasharray="4 3"/>'
    )
    body.append(_text(limit, height - 6, "100% = on budget", size=10, fill=OVER, anchor="middle"))
    for n, bar in enumerate(bars):
        y = top + n * row_h
        body.append(_text(label_w - 8, y + 18, bar.label, anchor="end"))
        if bar.previous is not None:
            body.append(
                f'<rect x="{label_w}" y="{y + 4}" width="{x(bar.previous) - label_w:.1f}" height="8" '
                f'fill="{LAST_WEEK}"/>'
            )
        if bar.value is None:
            body.append(_text(label_w + 4, y + 24, "no data", fill=MUTED))
            continue
        colour = OVER if bar.value > 1 else THIS_WEEK
        body.append(
            f'<rect x="{label_w}" y="{y + 13}" width="{x(bar.value) - label_w:.1f}" height="12" '
            f'fill="{colour}"/>'
        )
        before = "no data" if bar.previous is None else f"{bar.previous:.0%}"
        body.append(_text(width - right_w + 8, y + 23, f"{bar.value:.0%} (was {before})"))
    return _svg(width, height, body, title)


def trend_line(
    points: Sequence[tuple[datetime, float | None]], *, title: str, target: float | None, width: int = 640
) -> str:
    """A line of scores over week ends (0 to 100), a gap where a week has no score, each point labelled."""
    height, left, right, top, bottom = 200, 34, 16, 24, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(points) - 1, 1)

    def xy(i: int, value: float) -> tuple[float, float]:
        return left + plot_w * i / n, top + plot_h * (1 - value / 100)

    body = [_text(0, 14, title, size=12)]
    for level in (0, 50, 100):
        _, y = xy(0, level)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        body.append(_text(left - 6, y + 4, str(level), size=10, fill=MUTED, anchor="end"))
    if target is not None:
        _, y = xy(0, target)
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{OVER}" '
            'stroke-dasharray="4 3"/>'
        )
        body.append(_text(width - right, y - 4, f"target {target:g}", size=10, fill=OVER, anchor="end"))
    segment: list[str] = []
    for i, (at, value) in enumerate(points):
        px, _ = xy(i, 0)
        body.append(_text(px, height - 10, f"{at:%d %b}", size=9, fill=MUTED, anchor="middle"))
        if value is None:
            if len(segment) > 1:
                body.append(_polyline(segment))
            segment = []
            continue
        x, y = xy(i, value)
        segment.append(f"{x:.1f},{y:.1f}")
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{THIS_WEEK}"/>')
        body.append(_text(x, y - 7, f"{value:.1f}".removesuffix(".0"), size=9, anchor="middle"))
    if len(segment) > 1:
        body.append(_polyline(segment))
    return _svg(width, height, body, title)


def _polyline(points: list[str]) -> str:
    return f'<polyline points="{" ".join(points)}" fill="none" stroke="{THIS_WEEK}" stroke-width="2"/>'


@dataclass(frozen=True)
class Span:
    label: str
    start: datetime
    end: datetime
    kind: str  # "incident", "page" or "ticket"


def week_timeline(
    spans: Sequence[Span], start: datetime, end: datetime, *, title: str, width: int = 640
) -> str:
    """One row per incident or alert across the week (a day per column), clipped to the week."""
    label_w, row_h, top = 220, 18, 34
    plot_w = width - label_w - 8
    height = top + row_h * max(len(spans), 1) + 8
    length = (end - start).total_seconds()

    def x(at: datetime) -> float:
        return label_w + plot_w * min(max((at - start).total_seconds(), 0.0), length) / length

    body = [_text(0, 14, title, size=12)]
    day = start
    while day < end:
        body.append(
            f'<line x1="{x(day):.1f}" y1="{top - 10}" x2="{x(day):.1f}" y2="{height - 4}" stroke="{GRID}"/>'
        )
        body.append(_text(x(day) + 3, top - 14 + 10, f"{day:%a %d}", size=9, fill=MUTED))
        day += timedelta(days=1)
    if not spans:
        body.append(_text(label_w, top + 12, "No incident and no alert this week.", fill=MUTED))
    colours = {"incident": INCIDENT, "page": PAGE, "ticket": TICKET}
    for n, span in enumerate(spans):
        y = top + n * row_h
        body.append(_text(label_w - 6, y + 12, span.label, size=10, anchor="end"))
        left, right = x(span.start), x(span.end)
        body.append(
            f'<rect x="{left:.1f}" y="{y + 3}" width="{max(right - left, 2):.1f}" height="11" '
            f'fill="{colours.get(span.kind, MUTED)}"/>'
        )
    return _svg(width, height, body, title)
