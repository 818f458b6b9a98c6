"""Drawing the domain dashboards: variable pickers kept in the URL, then every panel of a `DashboardView`.

Shared by the four domain pages so they stay a few lines each. Backend text (label values, incident titles)
only reaches the screen through `ui.plain`, chart data, or dataframes, never as markdown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, NamedTuple

import altair as alt
import pandas as pd
import streamlit as st

from app import dashboards, ui
from app.dashboards import DashboardView, PanelData, VariableChoices
from app.dashboards import spec as panels
from app.dashboards.fetch import label_columns
from app.dashboards.spec import ALL, Dashboard, Panel, Threshold, known_slos, slo_periods
from app.slo import view as slo_view
from app.slo.math import EXHAUSTED, HEALTHY, NO_DATA, STATES
from app.sources.cache import Outcome
from app.sources.deadline import ContextPool
from app.sources.errors import BackendError, SnapshotMiss, failed_backend, plain_reason
from app.topn import Curves, Reduced, bars_note, top_bars, top_groups
from app.ui import charts
from app.units import format_age, format_value


class Linked(NamedTuple):
    """An SLO a panel feeds."""

    title: str
    state: str
    period: str  # "30d", "calendar month": what its state is judged over


GOOD_COLOUR, BAD_COLOUR = "#3A8F5C", "#C44E52"  # the theme's green and red
BAR_ROW_PX = 34
TABLE_ROW_PX, MAX_TABLE_ROWS = 35, 20
MAX_METRICS = {"half": 2, "full": 6}  # more figures than this go into a small table
LEGEND: dict[str, Any] = {
    "orient": "bottom",
    "columns": 2,
    "labelFontSize": 12,
    "titleFontSize": 12,
    "labelLimit": 240,
}
# Time labels that say the same thing at every tick: hours within a day, days beyond.

MAX_VALUE_TITLE = 24  # characters
_VALUE_TITLES = {"count": "Count", "ratio": "Share", "seconds": "Seconds", "x": "Times"}
_TABLE_FORMATS = {
    "ratio": "percent",
    "seconds": "%.3f s",
    "count": "localized",
    "x": "%.2f×",
}


def pickers(board: Dashboard, choices: Mapping[str, VariableChoices]) -> dict[str, str]:
    """One select box per variable, bound to the URL under the variable's name; returns the picked values.

    A value in the URL that is not on offer (a stale or forged link) falls back to "All"."""
    if not board.variables:
        return {}
    picked: dict[str, str] = {}
    columns = st.columns(min(len(board.variables), 4))
    for column, variable in zip(columns, board.variables, strict=False):
        offered = choices[variable.name].values
        label = variable.label
        with column:
            value = ui.named_url_picker(
                ui.plain(label),
                {ALL: f"All ({label.lower()}s)"} | {v: board.display(variable.name, v) for v in offered},
                variable.name,
                help=ui.plain(variable.description) if variable.description else None,
            )
            error = choices[variable.name].error
            if error is not None:
                who = ui.BACKEND_NAMES.get(error.backend, error.backend)  # the banner below says why
                why = (
                    "they are not in the demo snapshot"
                    if isinstance(error, SnapshotMiss)
                    else f"{who} did not answer"
                )
                st.caption(f":material/warning: Could not list the values: {ui.plain(why)}.")
        picked[variable.name] = value if value in offered else ALL
    return picked


def draw(view: DashboardView, preset: str, now: datetime, slo_states: Mapping[str, str]) -> None:
    """Problems first (one banner per failing backend), then the sections of panels."""
    ui.show_problems(view.problems, now)
    ui.show_warnings(view.warnings)
    tr = view.time_range
    st.caption(f"{tr.label}: {tr.start:%d %b %H:%M} – {tr.end:%d %b %H:%M} UTC")
    _incidents_note(view, now)
    periods = slo_periods()
    slos = {
        name: Linked(title, slo_states.get(name, NO_DATA), periods.get(name, ""))
        for name, title in known_slos().items()
    }
    _slos_in_trouble(view.dashboard, slos)
    for section, section_panels in view.dashboard.sections():
        if section:
            st.subheader(ui.plain(section), anchor=section_anchor(section))
        row: list[PanelData] = []
        for panel in section_panels:
            data = view.panel(panel.id)
            if panel.width == "full":
                _flush(row, view, preset, slos)
                row = []
                _flush([data], view, preset, slos, columns=1)
            else:
                row.append(data)
                if len(row) == 2:
                    _flush(row, view, preset, slos)
                    row = []
        _flush(row, view, preset, slos)


def section_anchor(section: str) -> str:
    """The id of a section's heading, for a link to it on the page (`#section-queues`)."""
    return "section-" + re.sub(r"[^a-z0-9]+", "-", section.lower()).strip("-")


def _slos_in_trouble(board: Dashboard, slos: Mapping[str, Linked]) -> None:
    """The page opens on its problem: each SLO of its panels that is not healthy, worst first, with a link
    down to the panel about it (an overview tile lands here)."""
    found: dict[str, tuple[str, str]] = {}  # SLO -> (its first panel's title, that panel's section)
    for section, section_panels in board.sections():
        for panel in section_panels:
            for name in panel.slos:
                found.setdefault(name, (panel.title, section))
    trouble = sorted(
        (name for name in found if name in slos and slos[name].state != HEALTHY),
        key=lambda name: (STATES.index(slos[name].state), slos[name].title),
    )
    unknown = [slos[name].title for name in trouble if slos[name].state == NO_DATA]
    for name in trouble:
        title, state, _ = slos[name]
        if state == NO_DATA:
            continue
        panel_title, section = found[name]
        where = f" under [{ui.plain(section)}](#{section_anchor(section)})" if section else ""
        text = f"**{ui.plain(title)}** is {state}: see the panel *{ui.plain(panel_title)}*{where}."
        (st.error if state == EXHAUSTED else st.warning)(text, icon=ui.state_icon(state))
    if unknown:
        st.info(
            f"No data for the SLO{'s' if len(unknown) > 1 else ''} {ui.plain(', '.join(unknown))}: "
            "their state is not known.",
            icon=ui.state_icon(NO_DATA),
        )


def _incidents_note(view: DashboardView, now: datetime) -> None:
    problem = incidents_problem(view.incidents_outcome, now)
    if problem is not None:
        st.caption(problem)
    if view.incidents.empty:  # also when they could not be fetched and none was kept
        return
        return
    shaded = [
        f"{ui.plain(row.title)} ({row.start:%d %b %H:%M} – {row.end:%d %b %H:%M})"
        for row in view.incidents.itertuples()
        if not row.ongoing
    ]
    standing = [
        f"{ui.plain(row.title)} (since {row.since:%d %b %H:%M})"
        for row in view.incidents.itertuples()
        if row.ongoing
    ]
    if shaded:
        st.caption(
            ":material/flag: Incidents in this range, shaded on the charts: " + "; ".join(shaded) + "."
        )
    if standing:
        st.caption(":material/flag: Ongoing: " + "; ".join(standing) + ".")


def incidents_problem(outcome: Outcome[Any] | None, now: datetime) -> str | None:
    """Why the charts lack their incidents, or show the last good ones (which `incident_frame` draws from
    a stale answer); None when they are current."""
    if outcome is None or outcome.error is None:
        return None
    why = _why_no_incidents(outcome.error)
    if outcome.stale and outcome.fetched_at is not None:
        return (
            f":material/history: The incidents on the charts are the last good data, from "
            f"{format_age(outcome.fetched_at, now)}: {why}."
        )
    return f":material/warning: Incidents are not marked on the charts: {why}."


def _why_no_incidents(error: BackendError) -> str:
    """OpenSearch is blamed only when it failed: the incidents query may never have been sent, the page
    having run out of time on another backend's panels, or may still be on its way."""
    if error.error_type == "deadline":
        return "OpenSearch was not asked, the page ran out of time"
    if error.error_type == "loading":
        return "OpenSearch has not answered yet"
    return f"{failed_backend(error)} ({ui.plain(plain_reason(error))})"


def _shaded(view: DashboardView) -> pd.DataFrame | None:
    """Incidents with a start and an end, as chart annotations; standing conditions are only listed."""
    windows = view.incidents[~view.incidents["ongoing"].astype(bool)] if not view.incidents.empty else None
    return None if windows is None or windows.empty else windows[["start", "end", "title"]]


def _flush(
    row: list[PanelData], view: DashboardView, preset: str, slos: Mapping[str, Linked], columns: int = 2
) -> None:
    if not row:
        return
    for column, data in zip(st.columns(columns), row, strict=False):
        with column, st.container(border=True):
            _panel(data, view, preset, slos)


def _panel(data: PanelData, view: DashboardView, preset: str, slos: Mapping[str, Linked]) -> None:
    panel = data.panel
    st.markdown(
        f"**{ui.plain(panel.title)}**", help=ui.plain(panel.description) if panel.description else None
    )
    ignored = [
        v.label.lower()
        for v in view.dashboard.variables
        if view.values.get(v.name, ALL) != ALL and not data.applies(v.name)
    ]
    if ignored:
        st.caption(
            f":material/filter_alt_off: Not narrowed by {ui.plain(' or '.join(ignored))} (no such label)."
        )
    if data.stale_since is not None:
        st.caption(
            f":material/history: Last good data, from {format_age(data.stale_since, view.time_range.end)}."
        )
    if data.frame.empty:
        why = failed_backend(data.error) if data.error else "no data in this range"
        st.caption(f":material/block: No figures: {why}.")
    elif panel.kind == "line":
        _figures(data, view, data.figures, slos)
        reduced = fewest_lines(data)
        if note := lines_note(reduced, data):
            st.caption(note)
        chart = charts.timeseries(
            reduced.frame,
            title="",
            unit=panel.unit,
            color="legend",
            thresholds=[(t.label, t.value) for t in _applicable(panel.thresholds, data.frame)],
            annotations=_shaded(view),
            zero=panel.zero,
        )
        # Many series in half a page: wrap the legend instead of cutting it off.
        chart = chart.configure_legend(**LEGEND)
        st.altair_chart(chart)
    elif panel.kind == "stat":
        _figures(data, view, data.frame, slos)
    elif panel.kind == "bar":
        _bars(data)
    else:
        _table(data, view)
    _links(panel, preset, slos)


def _lowest_first(panel: Panel) -> bool:
    """A panel whose objective is a floor (accuracy above 95%) is worst at its lowest figures."""
    return any(t.good == "above" for t in panel.thresholds)


def fewest_lines(data: PanelData) -> Reduced:
    """The groups of the panel's curves that matter most (`top_groups`): rates of the rest summed, other
    figures bounded by the rest's worst."""
    panel = data.panel
    lowest = _lowest_first(panel)
    how: Curves = "sum" if panel.unit.endswith("/s") else ("min" if lowest else "max")
    return top_groups(data.frame, data.figures, label_columns(data.frame), how=how, lowest_first=lowest)


def lines_note(reduced: Reduced, data: PanelData) -> str | None:
    """ "The 3 routes with the highest figure over the range; the other 9 drawn as "others" (their sum)." """
    noun = " and ".join(label.replace("_", " ") for label in label_columns(data.frame)) + "s"
    end = "lowest" if _lowest_first(data.panel) else "highest"
    return reduced.note(noun, f"{end} figure {'now' if data.figures_now else 'over the range'}")


def _figures(
    data: PanelData, view: DashboardView, frame: pd.DataFrame | None, slos: Mapping[str, Linked]
) -> None:
    """One figure per series; beside it, the verdict: for an SLO's objective, that SLO's state (as the SLOs
    page and the overview show it, never a second judgement of the range's figure against the target), for
    any other threshold whether the figure meets it."""
    if frame is None or frame.empty:
        return
    panel = data.panel
    when = "now" if data.figures_now else "over the range"
    if len(frame) > MAX_METRICS[panel.width]:
        _table(data, view, frame, caption=f"Figures {when}.")
        return
    for column, row in zip(st.columns(len(frame)), frame.to_dict("records"), strict=False):
        threshold = next((t for t in panel.thresholds if t.applies(row)), None)
        delta, help_text = None, f"{panel.title}, {when}."
        colour: Literal["normal", "green", "red", "orange", "gray"] = "normal"
        if threshold is not None and threshold.slo:
            title, state, period = slos.get(threshold.slo, Linked(threshold.slo, NO_DATA, ""))
            delta, colour = f"{period} SLO {state}".lstrip(), ui.STATE_STYLES[state][0]
            help_text += (
                f" {threshold.label}. The SLO {title} is {state}: its error budget over its own period"
                f" ({period or 'unknown'}), not this figure against its objective."
            )
        elif threshold is not None:
            met = threshold.met(row["value"])
            # Over which window: a readiness check may judge the same figure over another one.
            over = "now" if data.figures_now else f"over the {view.time_range.label.lower()}"
            delta = f"{'Meets' if met else 'Misses'} {_short(threshold)} {over}"
            colour = "green" if met else "red"
            help_text += f" {threshold.label}."
        column.metric(
            ui.plain(row["legend"]),
            format_value(row["value"], panel.unit),
            delta=ui.plain(delta) if delta else None,
            delta_color=colour,
            delta_arrow="off",
            help=ui.plain(help_text),
        )


def _short(threshold: Threshold) -> str:
    """What a threshold is, in two or three words for a metric's delta: "the SLO", "the readiness check"."""
    kind = threshold.label.split(":", 1)[0].strip() if ":" in threshold.label else ""
    if not kind or len(kind) > 24:
        return "the threshold"
    return "the " + (kind if kind.split()[0].isupper() else kind[0].lower() + kind[1:])


def _applicable(thresholds: tuple[Threshold, ...], frame: pd.DataFrame) -> list[Threshold]:
    rows = frame.drop_duplicates("legend").to_dict("records")
    return [t for t in thresholds if any(t.applies(row) for row in rows)]


def _bars(data: PanelData) -> None:
    """Bars largest first; with a threshold, each bar green when it meets it and red when it misses."""
    panel = data.panel
    frame = data.frame.copy()
    threshold = next(iter(_applicable(panel.thresholds, frame)), None)
    color = None
    if threshold is not None:
        meets, misses = f"meets {_short(threshold)}", f"misses {_short(threshold)}"
        frame["status"] = [meets if threshold.met(v) else misses for v in frame["value"]]
        color = "status"
        missing = int((frame["status"] == misses).sum())
        st.caption(f"{ui.plain(threshold.label)}: {missing} of {len(frame)} miss it.")
    # hundreds of bars (a firm each, on a big platform): those furthest from the threshold's good side
    lowest_first = threshold is not None and threshold.good == "above"
    reduced = top_bars(frame, "legend", lowest_first=lowest_first)
    frame = reduced.frame
    if note := bars_note(reduced, lowest_first=lowest_first):
        st.caption(note)
    chart = charts.bars(frame, x="value", y="legend", title="", unit=panel.unit, color=color)
    if color is not None:
        scale = alt.Scale(domain=[meets, misses], range=[GOOD_COLOUR, BAD_COLOUR])
        chart = chart.encode(color=alt.Color("status:N", title=None, scale=scale))
    # One readable row per bar (the shared height fits about six).
    st.altair_chart(chart.properties(height=max(charts.HEIGHT, BAR_ROW_PX * len(frame))))


def _table(
    data: PanelData, view: DashboardView, frame: pd.DataFrame | None = None, caption: str | None = None
) -> None:
    panel = data.panel
    frame = data.frame if frame is None else frame
    labels = label_columns(frame)
    if panel.legend is not None:
        labels = [c for c in panel.legend if c in frame.columns]
    named = frame["series"].astype(str).str.len().gt(0).any()
    names = view.dashboard.value_names()
    if labels:
        table = frame.assign(**{c: frame[c].fillna("").astype(str).replace(names.get(c, {})) for c in labels})
        if named:
            table = table.pivot_table(index=labels, columns="series", values="value", aggfunc="first")
            table = table.reindex(columns=[s for s, _ in panel.series]).reset_index()
            value_columns = [s for s, _ in panel.series]
        else:
            table = table[[*labels, "value"]]
            value_columns = ["value"]
    else:  # the series by name under the panel's title: the figures under their unit's word
        table = frame[["legend", "value"]].rename(columns={"legend": panel.title})
        value_columns = ["value"]
    value_title = _value_title(panel) if labels else _VALUE_TITLES.get(panel.unit, "Value")
    if panel.unit == "count":  # increase() extrapolates: 47.02 submissions are 47
        table = table.assign(**{c: table[c].round(0) for c in value_columns})
    number = _TABLE_FORMATS.get(panel.unit, f"%.3f {panel.unit}")
    series_names = names.get("series", {})  # a series' column in words (the dashboard's `names: series:`)
    config = {
        c: st.column_config.NumberColumn(
            series_names.get(c, c) if c != "value" else value_title, format=number
        )
        for c in value_columns
    }
    titles = {v.name: v.label for v in view.dashboard.variables}
    for label in labels:
        config[label] = st.column_config.TextColumn(titles.get(label, label.replace("_", " ").capitalize()))
    if caption:
        st.caption(caption)
    # Every row visible without scrolling, up to a long list.
    height = TABLE_ROW_PX * (min(len(table), MAX_TABLE_ROWS) + 1) + 3
    st.dataframe(table, hide_index=True, column_config=config, height=height)


def _value_title(panel: Panel) -> str:
    """The title of a table's one value column: the panel's title when short, else its unit in a word (a
    long title as a column header widened the column past the panel, its right-aligned figures cut off)."""
    if len(panel.title) <= MAX_VALUE_TITLE:
        return panel.title
    return _VALUE_TITLES.get(panel.unit, "Value")


def _links(panel: Panel, preset: str, slos: Mapping[str, Linked]) -> None:
    with st.container(horizontal=True, gap="small"):
        for name in panel.slos:
            if name in slos:
                ui.page_link("slos", f"SLO: {slos[name].title}", ":material/target:", slo=name)
        ui.page_link(
            "traces", f"Traces: {panel.service}", ":material/timeline:", service=panel.service, range=preset
        )


def render_page(domain: str) -> None:
    """A whole domain page: set-up, the URL-bound pickers, then every panel, refreshed as the sidebar says."""
    ctx = ui.page_setup(domain)
    board = panels.dashboard(domain)
    st.caption(ui.plain(board.description))
    values = pickers(board, dashboards.variable_choices(ctx.sources, board, ctx.time_range()))

    @ui.live(ctx)
    def body() -> None:
        # The SLO states (the SLOs page's board, usually cached) are asked beside the panels, in the
        # same page run: one deadline for both, not one after the other.
        with ContextPool(max_workers=1) as pool:
            states = pool.submit(slo_view.states, ctx.sources, ctx.sources.now())
            view = dashboards.load(ctx.sources, board, ctx.time_range(), values)
            draw(view, ctx.preset, ctx.sources.now(), states.result())

    body()
