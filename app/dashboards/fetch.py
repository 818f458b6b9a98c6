"""The domain dashboards' data: every panel of a page fetched at once, and the incidents to annotate.

Pages call `variable_choices` (the values their pickers offer) and then `load` with the picked values; both
fetch through `fetch_all` and the shared `ResultCache`, so one failing backend costs only its own panels
(their outcomes carry the error and any last good value) and a rerun within the TTL asks nothing again.
Nothing here calls Streamlit: `app.dashboard_ui` draws.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from app import incidents
from app.dashboards.spec import ALL, Dashboard, Panel, Variable
from app.sources import Sources
from app.sources.cache import Outcome, ResultCache, default_cache, warnings_of
from app.sources.concurrent import fetch_all
from app.sources.errors import BackendError
from app.sources.prometheus import QueryResult, auto_step, rate_window
from app.timerange import TimeRange

DASHBOARDS = ("ingestion", "extraction", "tax", "assistant")
TTL_S = 30.0
# + `ongoing`: no end (a standing condition such as an overdue secret rotation), not a window to shade;
# + `since`: the start before clipping to the range
_NOT_LABELS = {"timestamp", "value", "series", "legend", "__name__"}


# -- variables -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VariableChoices:
    variable: Variable
    values: tuple[str, ...]  # what the picker offers besides "All"
    outcome: Outcome[Any] | None = None  # the label-values query's outcome; None for a fixed set

    @property
    def error(self) -> BackendError | None:
        return self.outcome.error if self.outcome is not None else None


def variable_choices(
    sources: Sources, board: Dashboard, tr: TimeRange, cache: ResultCache = default_cache
) -> dict[str, VariableChoices]:
    """The values each variable offers: its fixed set, or the label's values seen over the range."""
    prom = sources.prometheus
    tasks: dict[str, Callable[[], QueryResult]] = {}
    for variable in board.variables:
        if variable.query is not None:
            args = {"window": tr.promql_window} if "window" in variable.query.params else {}
            text = variable.query.render(**args).query
            tasks[variable.name] = functools.partial(prom.instant, text, tr.end)
    outcomes = fetch_all(
        tasks,
        cache=cache,
        ttl_s=TTL_S,
        budget_s=sources.run_budget_s,
        key_prefix=(sources.cache_key, "dashboard-variables", board.name, tr.preset),
        window=tr,
    )
    choices = {}
    for variable in board.variables:
        if variable.query is None:
            choices[variable.name] = VariableChoices(variable, variable.values)
            continue
        outcome = outcomes[variable.name]
        values: tuple[str, ...] = ()
        if outcome.value is not None and variable.name in outcome.value.frame.columns:
            found = outcome.value.frame[variable.name].dropna().astype(str)
            values = tuple(sorted(v for v in set(found) if v))
        choices[variable.name] = VariableChoices(variable, values, outcome)
    return choices


# -- panels ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelData:
    panel: Panel
    frame: pd.DataFrame  # series, legend, label columns…, [timestamp], value
    figures: pd.DataFrame | None  # line panels: one value per series over the range (or now)
    outcomes: tuple[tuple[str, Outcome[Any]], ...] = field(repr=False)  # (backend, outcome) per query

    @property
    def figures_now(self) -> bool:
        """The figures are current values (a gauge), not figures over the whole range."""
        return "window" not in self.panel.query.params

    @property
    def problems(self) -> list[tuple[str, Outcome[Any]]]:
        return [(backend, o) for backend, o in self.outcomes if o.error is not None]

    @property
    def error(self) -> BackendError | None:
        return next((o.error for _, o in self.outcomes if o.error is not None), None)

    @property
    def stale_since(self) -> datetime | None:
        """When the oldest last-good value shown was fetched, if any value shown is stale."""
        stale = [o.fetched_at for _, o in self.outcomes if o.stale and o.fetched_at is not None]
        return min(stale) if stale else None

    @property
    def warnings(self) -> list[str]:
        return warnings_of(o for _, o in self.outcomes)

    def applies(self, variable: str) -> bool:
        return variable in self.panel.variables


@dataclass(frozen=True)
class DashboardView:
    dashboard: Dashboard
    time_range: TimeRange
    values: Mapping[str, str]
    panels: tuple[PanelData, ...]
    incidents: pd.DataFrame  # app.incidents.within the range; empty when none or unknown
    incidents_outcome: Outcome[Any] | None = field(default=None, repr=False)

    @property
    def incidents_error(self) -> BackendError | None:
        return self.incidents_outcome.error if self.incidents_outcome is not None else None

    @property
    def problems(self) -> list[tuple[str, Outcome[Any]]]:
        """Failing panel queries (the incidents' own failure only costs the annotations)."""
        return [problem for data in self.panels for problem in data.problems]

    @property
    def warnings(self) -> list[str]:
        return [w for data in self.panels for w in data.warnings]

    def panel(self, panel_id: str) -> PanelData:
        return next(p for p in self.panels if p.panel.id == panel_id)


def load(
    sources: Sources,
    board: Dashboard,
    tr: TimeRange,
    values: Mapping[str, str] | None = None,
    cache: ResultCache = default_cache,
) -> DashboardView:
    """Fetch every panel of `board` (and the incidents) at once, narrowed by the variable `values`."""
    picked = {v.name: str((values or {}).get(v.name) or ALL) for v in board.variables}
    step = auto_step(tr.start, tr.end)
    tasks: dict[str, Callable[[], Any]] = {}
    plan: dict[str, list[tuple[str, str, str]]] = {}  # panel id -> (task, series, "curve"|"figure")
    for panel in board.panels:
        plan[panel.id] = []
        for series, _ in panel.series:
            if panel.ranged:
                name = f"{panel.id}/{series}/curve"
                args = panel.params(series, rate_window(step), tr.start, tr.end, picked)
                tasks[name] = _prometheus_range(sources, panel, args, tr, step)
                plan[panel.id].append((name, series, "curve"))
            if not panel.ranged or panel.summary:
                name = f"{panel.id}/{series}/figure"
                args = panel.params(series, tr.promql_window, tr.start, tr.end, picked)
                tasks[name] = _instant(sources, panel, args, tr)
                plan[panel.id].append((name, series, "figure"))
    if board.incidents is not None:
        query = board.incidents.render(
            **{k: v for k, v in {"start": tr.start, "end": tr.end}.items() if k in board.incidents.params}
        )
        tasks["incidents"] = lambda: sources.opensearch.search(query.target_index, query.query)
    outcomes = fetch_all(
        tasks,
        cache=cache,
        ttl_s=TTL_S,
        budget_s=sources.run_budget_s,
        key_prefix=(sources.cache_key, "dashboard", board.name, tr.preset, tuple(sorted(picked.items()))),
        window=tr,
    )
    datas = []
    names = board.value_names()
    for panel in board.panels:
        curves = [(s, outcomes[t]) for t, s, what in plan[panel.id] if what == "curve"]
        figures = [(s, outcomes[t]) for t, s, what in plan[panel.id] if what == "figure"]
        frame = _frames(panel, curves if panel.ranged else figures, names)
        datas.append(
            PanelData(
                panel=panel,
                frame=frame,
                figures=_frames(panel, figures, names) if panel.ranged and panel.summary else None,
                outcomes=tuple((panel.backend, outcomes[t]) for t, _, _ in plan[panel.id]),
            )
        )
    incidents_outcome = outcomes.get("incidents")
    return DashboardView(
        dashboard=board,
        time_range=tr,
        values=picked,
        panels=tuple(datas),
        incidents=incident_frame(incidents_outcome, board.services, tr),
        incidents_outcome=incidents_outcome,
    )


def _prometheus_range(
    sources: Sources, panel: Panel, args: dict[str, Any], tr: TimeRange, step: float
) -> Callable[[], QueryResult]:
    text = panel.query.render(**args).query
    return lambda: sources.prometheus.range(text, tr.start, tr.end, step)


def _instant(sources: Sources, panel: Panel, args: dict[str, Any], tr: TimeRange) -> Callable[[], Any]:
    rendered = panel.query.render(**args)
    if panel.backend == "prometheus":
        return lambda: sources.prometheus.instant(rendered.query, tr.end)
    if rendered.kind == "count":
        return lambda: sources.opensearch.count(rendered.target_index, rendered.query)
    return lambda: sources.opensearch.search(rendered.target_index, rendered.query)


def _frames(
    panel: Panel, results: list[tuple[str, Outcome[Any]]], names: Mapping[str, Mapping[str, str]]
) -> pd.DataFrame:
    parts = [_series_frame(panel, series, outcome.value, names) for series, outcome in results]
    parts = [p for p in parts if not p.empty]
    columns = ["series", "legend", "value"] + (["timestamp"] if panel.ranged else [])
    if not parts:
        return pd.DataFrame(columns=columns)
    return pd.concat(parts, ignore_index=True)


def label_columns(frame: pd.DataFrame) -> list[str]:
    """A panel frame's label columns (route, tenant…): every column but the series, legend, time and value."""
    return [c for c in frame.columns if c not in _NOT_LABELS]


def _series_frame(
    panel: Panel, series: str, value: Any, names: Mapping[str, Mapping[str, str]]
) -> pd.DataFrame:
    """One query's answer as rows with the series name and a legend in words: label values by their display
    names (`names`: label -> value -> name); the label columns keep the raw values (thresholds match them)."""
    if value is None:
        return pd.DataFrame()
    if isinstance(value, int | float):  # an OpenSearch count
        frame = pd.DataFrame({"value": [float(value)]})
    elif isinstance(value, QueryResult):
        frame = value.frame.copy()
    else:  # an OpenSearch search: buckets of its first aggregation, else the number of hits
        frame = _search_frame(value)
    if frame.empty:
        return pd.DataFrame()
    labels = label_columns(frame)
    shown = [c for c in (panel.legend if panel.legend is not None else labels) if c in frame.columns]
    frame.insert(0, "series", series)
    named = [names.get(c, {}) for c in shown]
    rows = frame[shown].itertuples(index=False)
    frame.insert(1, "legend", [_legend(panel, series, row, named) for row in rows])
    return frame


def _legend(panel: Panel, series: str, labels: tuple[Any, ...], names: list[Mapping[str, str]]) -> str:
    words = [series] if series else []
    words += [
        name.get(str(v), str(v))
        for v, name in zip(labels, names, strict=True)
        if v is not None and not (isinstance(v, float) and pd.isna(v)) and v != ""
    ]
    return " · ".join(words) or panel.title


def _search_frame(result: Any) -> pd.DataFrame:
    from app.sources.opensearch import buckets_frame

    if result.aggregations:
        name = next(iter(result.aggregations))
        frame = buckets_frame(result.aggregations, name)
        metrics = [c for c in frame.columns if c not in (name, "doc_count")]
        value = frame[metrics[0]] if len(metrics) == 1 else frame["doc_count"]
        return pd.DataFrame({name: frame[name].astype(str), "value": value.astype(float)})
    return pd.DataFrame({"value": [float(result.total)]})


def incident_frame(outcome: Outcome[Any] | None, services: tuple[str, ...], tr: TimeRange) -> pd.DataFrame:
    """The incidents touching `services` that overlap the range (`app.incidents.within`)."""
    found = incidents.frame(outcome.value if outcome is not None else None)
    return incidents.within(incidents.touching(found, services), tr.start, tr.end)


# -- the snapshot ----------------------------------------------------------------------------------------
