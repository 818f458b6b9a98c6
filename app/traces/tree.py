"""One trace's span tree: waterfall rows (depth, self time, critical path), the time each service takes,
and the waterfall chart. Pure: tested on hand-made frames."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import pandas as pd

CHART_MAX_SPANS = 300
LABEL_WIDTH = 250
BARS_WIDTH = 620
# Service colours without red, which marks failed spans.
SERVICE_PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#72B7B2", "#B279A2", "#EECA3B", "#9D755D", "#BAB0AC"]

WATERFALL_COLUMNS = (
    "row",
    "span_id",
    "parent_id",
    "depth",
    "service",
    "operation",
    "label",
    "start_ms",
    "end_ms",
    "duration_ms",
    "self_ms",
    "critical_ms",
    "on_critical_path",
    "error",
    "detail",
)

# What the chart draws and its tooltips show: the waterfall's columns but the ids and the row label.
CHART_COLUMNS = tuple(c for c in WATERFALL_COLUMNS if c not in ("span_id", "parent_id", "label"))
GROUP_COLUMNS = ("count", "spans", "total_ms", "slowest_ms")  # rows of `app.traces.fold`


def _detail(tags: Any) -> str:
    """What went wrong on a span, in the words its tags give (status description, error message, code)."""
    if not isinstance(tags, Mapping):
        return ""
    parts = []
    keys = ["otel.status_description", "error.message", "exception.message", "error.type"]
    keys += sorted(k for k in tags if str(k).endswith("error_code"))  # e.g. hmrc.error_code
    for key in keys:
        value = tags.get(key)
        if value not in (None, "", False) and str(value).lower() != "error":  # "error" says nothing new
            parts.append(str(value))
    code = tags.get("http.status_code", tags.get("http.response.status_code"))
    failed = tags.get("error") in (True, "true") or str(tags.get("otel.status_code", "")).upper() == "ERROR"
    if code not in (None, "") and (failed or str(code)[:1] in "45"):  # a success code says nothing new
        parts.append(f"HTTP {code}")
    return "; ".join(dict.fromkeys(parts))


def _union_ms(intervals: list[tuple[float, float]]) -> float:
    total, current_start, current_end = 0.0, None, None
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if current_end is None or start > current_end:
            if current_end is not None and current_start is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None and current_start is not None:
        total += current_end - current_start
    return total


def waterfall_rows(spans: pd.DataFrame) -> pd.DataFrame:
    """The span tree in display order (depth first, children by start) with, per span: its depth,
    start/end in milliseconds from the trace's start, self time (its duration minus the time covered by
    its children) and time on the critical path. Spans whose parent is missing count as roots."""
    if spans is None or spans.empty:
        return pd.DataFrame({c: pd.Series([], dtype="object") for c in WATERFALL_COLUMNS})
    # A span received twice (e.g. exported again) comes back twice from Jaeger: keep one.
    same = [c for c in ("span_id", "start", "duration_ms", "service", "operation") if c in spans.columns]
    spans = spans.drop_duplicates(subset=same).reset_index(drop=True)
    t0 = spans["start"].min()
    start_ms = ((spans["start"] - t0) / pd.Timedelta(milliseconds=1)).astype("float64").tolist()
    durations = spans["duration_ms"].astype("float64").tolist()
    ids = [str(s) for s in spans["span_id"].tolist()]  # lists: iterating Arrow-backed strings is slow
    index = {span_id: i for i, span_id in enumerate(ids)}
    parents = [
        p if isinstance(p, str) and p in index and p != ids[i] else None
        for i, p in enumerate(spans["parent_id"].tolist())
    ]
    children: dict[int | None, list[int]] = {}
    for i, parent in enumerate(parents):
        children.setdefault(None if parent is None else index[parent], []).append(i)
    for kids in children.values():
        kids.sort(key=lambda i: (start_ms[i], ids[i]))

    order: list[tuple[int, int]] = []  # (span index, depth)
    seen: set[int] = set()

    def visit(root: int) -> None:
        stack = [(root, 0)]
        while stack:
            i, depth = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            order.append((i, depth))
            stack.extend((k, depth + 1) for k in reversed(children.get(i, [])))

    for root in children.get(None, []):
        visit(root)
    for i in sorted(set(range(len(ids))) - seen, key=lambda i: (start_ms[i], ids[i])):  # cycles
        visit(i)

    ends = [s + d for s, d in zip(start_ms, durations, strict=True)]
    self_ms = []
    for i in range(len(ids)):
        covered = [(max(start_ms[k], start_ms[i]), min(ends[k], ends[i])) for k in children.get(i, [])]
        self_ms.append(max(durations[i] - _union_ms(covered), 0.0))
    critical = critical_path(start_ms, ends, children)

    operations = [str(v) for v in spans["operation"].tolist()]
    services = [str(v) for v in spans["service"].tolist()]
    failed = [bool(v) for v in spans["error"].tolist()]
    tags = spans["tags"].tolist() if "tags" in spans.columns else [None] * len(ids)
    rows = []
    for row, (i, depth) in enumerate(order):
        rows.append(
            {
                "row": row,
                "span_id": ids[i],
                "parent_id": parents[i],
                "depth": depth,
                "service": services[i],
                "operation": operations[i],
                # Repeated operations (retries) keep one row each: the chart's rows are keyed by `row`.
                "label": "\u00a0\u00a0" * depth + f"{operations[i]} ({services[i]})",
                "start_ms": start_ms[i],
                "end_ms": ends[i],
                "duration_ms": durations[i],
                "self_ms": self_ms[i],
                "critical_ms": critical.get(i, 0.0),
                "on_critical_path": critical.get(i, 0.0) > 0,
                "error": failed[i],
                "detail": _detail(tags[i]),
            }
        )
    return pd.DataFrame(rows, columns=list(WATERFALL_COLUMNS))


def critical_path(
    start_ms: list[float], end_ms: list[float], children: Mapping[int | None, list[int]]
) -> dict[int, float]:
    """Milliseconds each span spends on the critical path, as the Jaeger UI computes it: walking back
    from a span's end, the child that finished last before the current point is what the span waited for
    (recursively); then the current point moves to that child's start, and only children that had
    finished by then are candidates. Time not covered that way is the span's own. Children are first
    clipped to their parent. The values of one tree add up to its root's duration."""
    contribution: dict[int, float] = {}

    def walk(root: int, root_end: float) -> None:
        stack: list[tuple[int, float, float]] = [(root, start_ms[root], root_end)]  # span, lower, upper
        while stack:
            span, lower, upper = stack.pop()
            clipped = [(max(start_ms[k], lower), min(end_ms[k], upper), k) for k in children.get(span, [])]
            candidates = sorted((c for c in clipped if c[0] < c[1]), key=lambda c: (c[1], c[0]), reverse=True)
            current, own = upper, 0.0
            for kid_start, kid_end, kid in candidates:
                if kid_end > current:
                    continue  # still running when the later child started: not what the span waited on
                own += current - kid_end
                stack.append((kid, kid_start, kid_end))
                current = kid_start
            contribution[span] = contribution.get(span, 0.0) + own + max(current - lower, 0.0)

    for root in children.get(None, []):
        walk(root, end_ms[root])
    return contribution


def service_share(rows: pd.DataFrame) -> pd.DataFrame:
    """Per service: spans, errors, self time and critical-path time, with each one's share of the trace's
    critical path (which adds up to the trace's duration)."""
    columns = ["service", "spans", "errors", "self_ms", "critical_ms", "critical_share"]
    if rows is None or rows.empty:
        return pd.DataFrame(columns=columns)
    grouped = rows.groupby("service", sort=False).agg(
        spans=("span_id", "count"),
        errors=("error", "sum"),
        self_ms=("self_ms", "sum"),
        critical_ms=("critical_ms", "sum"),
    )
    total = grouped["critical_ms"].sum()
    grouped["critical_share"] = grouped["critical_ms"] / total if total > 0 else 0.0
    grouped["errors"] = grouped["errors"].astype("int64")
    return grouped.reset_index().sort_values(
        ["critical_ms", "service"], ascending=[False, True], ignore_index=True
    )[columns]


def waterfall_chart(rows: pd.DataFrame) -> alt.HConcatChart:
    """Spans as bars over time from the trace's start, one row each: on the left the operation and
    service, indented by depth (red for failed spans); on the right the bars, coloured by service, failed
    spans outlined in red and marked at their end, the critical path in full colour."""
    # Only what the marks and tooltips use goes to the browser (a group's span ids would be kilobytes).
    used = [*CHART_COLUMNS, *(c for c in GROUP_COLUMNS if c in rows.columns)]
    data = rows.head(CHART_MAX_SPANS)[used].copy()
    data["name"] = data["operation"] + " · " + data["service"]
    if "count" in data.columns:  # rows of `app.traces.fold`: a group says how many spans it holds
        data["name"] += data["count"].map(lambda n: f" ×{n:,}" if n > 1 else "")
    data["error_mark"] = data["error"].map(lambda e: "✕" if e else "")
    data["key"] = data["row"].astype(str)
    y = alt.Y("key:N", sort=list(data["key"]), title=None, axis=None, scale=alt.Scale(paddingInner=0.3))
    tooltip = [
        alt.Tooltip("operation:N"),
        alt.Tooltip("service:N"),
        alt.Tooltip("start_ms:Q", title="starts at (ms)", format=",.1f"),
        alt.Tooltip("duration_ms:Q", title="duration (ms)", format=",.1f"),
        alt.Tooltip("self_ms:Q", title="self time (ms)", format=",.1f"),
        alt.Tooltip("critical_ms:Q", title="on critical path (ms)", format=",.1f"),
        alt.Tooltip("error:N"),
        alt.Tooltip("detail:N"),
    ]
    if "count" in data.columns:
        tooltip += [
            alt.Tooltip("count:Q", title="calls grouped", format=","),
            alt.Tooltip("spans:Q", title="spans in this row", format=","),
            alt.Tooltip("total_ms:Q", title="total duration (ms)", format=",.1f"),
            alt.Tooltip("slowest_ms:Q", title="slowest (ms)", format=",.1f"),
        ]
    height = max(60, 24 * len(data))
    max_depth = int(data["depth"].max()) if not data.empty else 0
    names = (
        alt.Chart(data)
        .mark_text(align="left", baseline="middle", fontSize=12, limit=LABEL_WIDTH)
        .encode(
            x=alt.X("depth:Q", axis=None, scale=alt.Scale(domain=[0, max(max_depth, 1) * 3 + 12])),
            y=y,
            text="name:N",
            color=alt.condition("datum.error", alt.value("#C62828"), alt.value("#31333F")),
            tooltip=tooltip,
        )
        .properties(width=LABEL_WIDTH, height=height)
    )
    bars = (
        alt.Chart(data)
        .mark_bar(cornerRadius=2)
        .encode(
            x=alt.X("start_ms:Q", title="milliseconds from the trace's start", axis=alt.Axis(format=",.0f")),
            x2="end_ms:Q",
            y=y,
            color=alt.Color(
                "service:N",
                title="service",
                scale=alt.Scale(range=SERVICE_PALETTE),
                legend=alt.Legend(orient="bottom"),
            ),
            opacity=alt.condition("datum.on_critical_path", alt.value(1.0), alt.value(0.4)),
            stroke=alt.condition("datum.error", alt.value("#C62828"), alt.value("transparent")),
            strokeWidth=alt.condition("datum.error", alt.value(2), alt.value(0)),
            tooltip=tooltip,
        )
    )
    marks = (
        alt.Chart(data)
        .transform_filter("datum.error")
        .mark_text(align="left", dx=4, color="#C62828", fontWeight="bold", fontSize=12)
        .encode(x="end_ms:Q", y=y, text="error_mark:N", tooltip=tooltip)
    )
    return (
        alt.hconcat(names, alt.layer(bars, marks).properties(height=height, width=BARS_WIDTH), spacing=4)
        .resolve_scale(y="shared")
        .properties(title="Spans over time (the critical path in full colour, failures in red)")
        .configure_axis(labelFontSize=12, titleFontSize=12, gridColor="#E6E9EE", domainColor="#9AA5B1")
        .configure_title(fontSize=14, anchor="start", fontWeight=600)
        .configure_view(strokeWidth=0)
    )
