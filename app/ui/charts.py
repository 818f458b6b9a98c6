"""Altair chart builders with one shared look. Pages pass tidy frames; nothing here fetches data."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import altair as alt
import pandas as pd

Chart: TypeAlias = alt.Chart | alt.LayerChart | alt.FacetChart  # what the builders return
HEIGHT = 170  # the plot's own height (at least 160 px: issue 9)
_AXIS: dict[str, Any] = {
    "labelFontSize": 12,
    "titleFontSize": 12,
    "gridColor": "#E6E9EE",
    "domainColor": "#9AA5B1",
}
_TITLE: dict[str, Any] = {"fontSize": 14, "anchor": "start", "fontWeight": 600}

UNIT_FORMATS: dict[str, tuple[str, str]] = {
    # unit -> (axis title, d3 format); small figures as decimals ("0.8"), never SI's "800m" requests a second
    "ratio": ("percent", ".2%"),
    "seconds": ("seconds", ",.3~r"),
    "minutes": ("minutes", ",.1~f"),
    "hours": ("hours", ",.1~f"),
    "req/s": ("requests per second", ",.3~r"),
    "count": ("count", ",.0f"),
    "x": ("burn rate (×)", ".1f"),
}


FIT_WIDTH = alt.AutoSizeParams(type="fit-x", contains="padding")


def _style(chart: Chart, title: str | alt.TitleParams) -> Chart:
    return (
        # `fit-x`: the container sets the width, and HEIGHT is the plot's own height; titles, axes and
        # legends come on top of it (Streamlit's default `fit` squeezed a plot with a long legend to 40 px).
        # Two legend columns: three of "reconciliation" were wider than a chart a third of the page wide.
        chart.properties(title=title, height=HEIGHT, autosize=FIT_WIDTH)
        .configure_axis(**_AXIS)
        .configure_title(**_TITLE)
        .configure_legend(orient="bottom", labelFontSize=12, titleFontSize=12, columns=2, symbolLimit=0)
        .configure_view(strokeWidth=0)
    )


def _y(unit: str, field: str = "value", *, zero: bool = True) -> alt.Y:
    title, fmt = UNIT_FORMATS.get(unit, (unit, ",.4~g"))
    return alt.Y(f"{field}:Q", title=title, axis=alt.Axis(format=fmt), scale=alt.Scale(zero=zero))


def timeseries(
    frame: pd.DataFrame,
    *,
    title: str,
    unit: str,
    color: str | None = None,
    thresholds: list[tuple[str, float]] | None = None,
    annotations: pd.DataFrame | None = None,
    zero: bool = True,
) -> Chart:
    """Lines of `value` over `timestamp`, one per `color` column; horizontal threshold rules labelled in
    words; shaded `annotations` (columns start, end, title) for incidents. `zero=False` fits the value axis
    to the lines and thresholds instead of starting it at zero (an SLI near 100% is a line on the edge)."""
    # Only the columns drawn go to the browser: a dashboard's curves also carry their series name and
    # labels, repeated on every point (a third of Ingestion's 880 KB at 12 routes a service).
    drawn = ["timestamp", "value", *([color] if color else [])]
    frame = frame[[c for c in drawn if c in frame.columns]]  # a frame of no data may lack the colour
    if unit == "seconds":  # ages and durations in the unit their figures are read in ("5.9 h")
        frame, thresholds, unit = _in_duration_unit(frame, thresholds)
    _, fmt = UNIT_FORMATS.get(unit, (unit, ",.4~g"))
    tooltip = [alt.Tooltip("timestamp:T", title="time", format="%d %b %H:%M")]
    if color:
        tooltip.append(alt.Tooltip(f"{color}:N"))
    tooltip.append(alt.Tooltip("value:Q", title=unit, format=fmt))
    encoding = {
        "x": alt.X("timestamp:T", title=None, axis=_time_axis(frame)),
        "y": _y(unit, zero=zero),
        "tooltip": tooltip,
    }
    if color:
        encoding["color"] = alt.Color(f"{color}:N", title=None)
    layers: list[alt.Chart] = []
    annotations = _within(annotations, frame)
    if annotations is not None and not annotations.empty:
        layers.append(
            alt.Chart(annotations)
            .mark_rect(opacity=0.12, color="#C44E52")
            .encode(x="start:T", x2="end:T", tooltip=[alt.Tooltip("title:N", title="incident")])
        )
    layers.append(alt.Chart(frame).mark_line(strokeWidth=2, interpolate="monotone").encode(**encoding))
    if thresholds:
        # One layer for every threshold: each Altair layer costs milliseconds to encode and serialise.
        rules = pd.DataFrame(thresholds, columns=["label", "value"])
        layers.append(
            alt.Chart(rules)
            .mark_rule(strokeDash=[6, 4], color="#C44E52")
            .encode(y="value:Q", tooltip=["label:N"])
        )
    return _style(alt.layer(*layers) if len(layers) > 1 else layers[0], title)


DURATION_UNITS = (("hours", 3600.0), ("minutes", 60.0))  # the largest that the chart's top reaches twice


def _in_duration_unit(
    frame: pd.DataFrame, thresholds: list[tuple[str, float]] | None
) -> tuple[pd.DataFrame, list[tuple[str, float]] | None, str]:
    """Seconds charted in hours or minutes when the lines or thresholds reach two of them (an age of 5.9 h
    read off an axis of 21,240 s is a sum to do); the frame, thresholds and unit to draw."""
    top = max([frame["value"].max() if not frame.empty else 0.0, *(v for _, v in thresholds or [])])
    for unit, seconds in DURATION_UNITS:
        if top >= 2 * seconds:
            scaled = [(label, value / seconds) for label, value in thresholds] if thresholds else thresholds
            return frame.assign(value=frame["value"] / seconds), scaled, unit
    return frame, thresholds, "seconds"


def _time_axis(frame: pd.DataFrame) -> alt.Axis:
    """Times of day within two days, weekdays within a week or so, dates beyond: Vega's own choice on a
    half-width chart of a week labelled every tick "12 PM"."""
    if frame.empty:
        return alt.Axis()
    span = frame["timestamp"].max() - frame["timestamp"].min()
    if span <= pd.Timedelta(days=2):
        return alt.Axis(format="%H:%M", labelOverlap=True)
    return alt.Axis(
        format="%a %d %b" if span <= pd.Timedelta(days=8) else "%d %b", tickCount="day", labelOverlap=True
    )


def _within(annotations: pd.DataFrame | None, frame: pd.DataFrame) -> pd.DataFrame | None:
    """The annotations that overlap the curve's time span, cut to it: an incident of last week must not
    stretch an hour's chart to a week."""
    if annotations is None or annotations.empty or frame.empty:
        return annotations
    first, last = frame["timestamp"].min(), frame["timestamp"].max()
    inside = annotations[(annotations["end"] >= first) & (annotations["start"] <= last)]
    return inside.assign(start=inside["start"].clip(lower=first), end=inside["end"].clip(upper=last))


def bars(frame: pd.DataFrame, *, x: str, y: str, title: str, unit: str, color: str | None = None) -> Chart:
    """Horizontal bars of `y` (a category) by `x` (a value), sorted largest first. Only the columns drawn
    go to the browser (a frame's raw label columns, ids the chart shows by name, stay behind)."""
    frame = frame[[c for c in dict.fromkeys((y, x, color)) if c]]
    _, fmt = UNIT_FORMATS.get(unit, (unit, ",.4~g"))
    encoding = {
        "x": alt.X(f"{x}:Q", title=UNIT_FORMATS.get(unit, (unit, ""))[0], axis=alt.Axis(format=fmt)),
        "y": alt.Y(f"{y}:N", sort="-x", title=None),
        "tooltip": [alt.Tooltip(f"{y}:N"), alt.Tooltip(f"{x}:Q", format=fmt)],
    }
    if color:
        encoding["color"] = alt.Color(f"{color}:N", title=None)
    return _style(alt.Chart(frame).mark_bar().encode(**encoding), title)


COMPLIANCE_COLOURS = alt.Scale(domain=["met", "missed", "no data"], range=["#3A8F5C", "#C44E52", "#9AA5B1"])


def compliance(frame: pd.DataFrame, *, title: str, target: float) -> Chart:
    """Bars of the SLI per calendar period (columns period, start, sli, result), objective as a rule."""
    bars_ = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("period:N", sort=alt.SortField("start"), title=None),
            y=alt.Y("sli:Q", title="SLI", axis=alt.Axis(format=".2%"), scale=alt.Scale(zero=False)),
            color=alt.Color("result:N", scale=COMPLIANCE_COLOURS, title=None),
            tooltip=[alt.Tooltip("period:N"), alt.Tooltip("sli:Q", format=".3%"), alt.Tooltip("result:N")],
        )
    )
    rule = alt.Chart(pd.DataFrame({"value": [target]})).mark_rule(strokeDash=[6, 4], color="#1B2430")
    return _style(alt.layer(bars_, rule.encode(y="value:Q")), title)


READINESS_TITLE = "Filing readiness, the same hour each week"


def from_first_score(frame: pd.DataFrame) -> pd.DataFrame:
    """A trend frame (timestamp, value, …) from its first week with a score: the weeks before the data
    starts are not weeks "without a score" to draw. All of it when no week has a score."""
    scored = frame.loc[frame["value"].notna(), "timestamp"]
    return frame[frame["timestamp"] >= scored.min()] if not scored.empty else frame


def readiness_trend(frame: pd.DataFrame, *, target: float | None) -> Chart:
    """The filing readiness trend: the same chart on the overview, Readiness and the weekly review, saying
    at which moment of the week it scores (the overview and Readiness at this hour each week, the weekly
    review at each week's end), so that two of them side by side do not read as disagreeing."""
    return score_trend(frame, title=READINESS_TITLE, target=target, note=weekly_moment(frame["timestamp"]))


def weekly_moment(times: pd.Series) -> str:
    """When a weekly trend's points were scored, in words: "Scored each Mon at 07:00 UTC" when every point
    but the last is at one moment of the week, with ", the last at Mon 07:41" when the last (now) is not;
    empty otherwise."""
    points = sorted(pd.to_datetime(times.drop_duplicates(), utc=True))
    if len(points) < 2:
        return ""
    *weekly, last = points
    moments = {(t.weekday(), t.hour, t.minute) for t in weekly}
    if len(moments) > 1:
        return ""
    first = weekly[0]
    said = f"Scored each {first:%a} at {first:%H:%M} UTC"
    if (last.weekday(), last.hour, last.minute) == (first.weekday(), first.hour, first.minute):
        return said
    return f"{said}, the last at {last:%a %H:%M}"


def score_trend(
    frame: pd.DataFrame,
    *,
    title: str,
    target: float | None,
    period: Literal["day", "week"] = "week",
    axis: str = "score",
    note: str = "",
) -> Chart:
    """A 0–100 score per `period` (columns timestamp, series, value, label), one line and dot per `series`,
    `target` as a labelled rule, starting at the first period with a score (the periods before the data are
    not "no data" periods to draw: the subtitle says where it starts). `axis`: the y axis's title, the
    figure's unit ("score", "% of services"); `note`, a line under the title.

    Periods without a score after that are not drawn as a value: the line breaks there and a grey dashed
    rule marks the period as "no data", so a missing score can never read as a good (or a zero) one.
    """
    shown = from_first_score(frame)
    start = f"From {shown['timestamp'].min():%d %b}: no score before" if len(shown) < len(frame) else ""
    subtitle = [line for line in (note, start) if line]
    frame = shown
    scale = alt.Scale(domain=[0, 100])
    x = alt.X("timestamp:T", title=None, axis=alt.Axis(format="%d %b", tickCount=period))
    tooltip = [
        alt.Tooltip("timestamp:T", title=f"{period} to", format="%d %b %Y %H:%M"),
        alt.Tooltip("series:N", title="for"),
        alt.Tooltip("label:N", title="score"),
    ]
    single = frame["series"].nunique() <= 1  # one line needs no legend: the title names it
    color = alt.Color("series:N", title=None, legend=None if single else alt.Legend())
    base = alt.Chart(frame).encode(x=x, color=color, tooltip=tooltip)
    line = base.mark_line(strokeWidth=2, invalid="break-paths-filter-domains").encode(
        y=alt.Y("value:Q", title=axis, scale=scale)
    )
    dots = base.mark_point(filled=True, size=60).encode(y=alt.Y("value:Q", scale=scale))
    missing = frame[frame["value"].isna()].drop_duplicates("timestamp")
    layers: list[alt.Chart] = [line, dots]
    if not missing.empty:
        layers.insert(
            0,
            alt.Chart(missing.assign(label="no data"))
            .mark_rule(strokeDash=[4, 4], color="#9AA5B1", strokeWidth=2)
            .encode(x=x, tooltip=[alt.Tooltip("timestamp:T", title=f"{period} to", format="%d %b"), "label"]),
        )
    if target is not None:
        goal = pd.DataFrame({"value": [target], "label": [f"Target {target:g}"]})
        rule = alt.Chart(goal).mark_rule(strokeDash=[6, 4], color="#C44E52").encode(y="value:Q")
        words = (
            alt.Chart(goal)
            .mark_text(align="left", baseline="bottom", dx=4, dy=-2, color="#C44E52", fontSize=12)
            .encode(y="value:Q", x=alt.value(0), text="label:N")
        )
        layers += [rule, words]
    titled = alt.TitleParams(title, subtitle=subtitle) if subtitle else title
    return _style(alt.layer(*layers), titled)
