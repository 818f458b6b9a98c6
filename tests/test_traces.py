"""app/traces: search arguments, links, the span tree as waterfall rows, and the loader on fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from app import links, traces
from app.sources import Sources
from app.sources.cache import ResultCache
from app.sources.errors import BackendUnavailable, QueryRejected
from app.sources.jaeger import Trace, TraceList, TraceSummary
from app.sources.opensearch import SearchResult, hits_frame
from app.timerange import time_range
from tests.conftest import UNASKED

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
T0 = pd.Timestamp("2026-11-27T10:00:00Z")
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def spans(*rows: tuple) -> pd.DataFrame:
    """(span_id, parent_id, service, operation, start_ms, duration_ms, error[, tags])"""
    records = []
    for row in rows:
        span_id, parent, service, operation, start, duration, error, *rest = row
        records.append(
            {
                "span_id": span_id,
                "parent_id": parent,
                "service": service,
                "operation": operation,
                "start": T0 + pd.Timedelta(milliseconds=start),
                "duration_ms": float(duration),
                "error": error,
                "tags": rest[0] if rest else {},
            }
        )
    return pd.DataFrame(records)


# root [0,100]; A [10,40] and B [30,90] overlap; G [50,80] under B fails; O's parent is unknown.
TREE = spans(
    ("r", None, "gateway", "POST /api/filings", 0, 100, False),
    (
        "b",
        "r",
        "filing",
        "submit",
        30,
        60,
        True,
        {"otel.status_description": "HMRC 503", "http.status_code": 503},
    ),
    ("a", "r", "filing", "validate", 10, 30, False),
    ("g", "b", "filing", "hmrc.submit", 50, 30, True, {"error": True}),
    ("o", "missing", "assistant", "orphan", 5, 1, False),
)


# -- search arguments ------------------------------------------------------------------------------------


def test_search_kwargs_leave_out_all_operations_and_no_minimum():
    tr = time_range("6h", NOW)
    kwargs = traces.search_kwargs(traces.TraceView(service="filing"), tr)
    assert kwargs == {
        "service": "filing",
        "operation": None,
        "start": tr.start,
        "end": tr.end,
        "min_duration": None,
        "limit": traces.SEARCH_LIMIT,
    }


def test_search_kwargs_with_every_filter():
    tr = time_range("24h", NOW)
    view = traces.TraceView(service="filing", operation="hmrc.submit", errors_only=True, min_duration="250ms")
    kwargs = traces.search_kwargs(view, tr)
    assert kwargs["operation"] == "hmrc.submit"
    assert kwargs["tags"] == {"error": "true"}
    assert kwargs["min_duration"] == timedelta(milliseconds=250)


def test_search_kwargs_keep_hostile_text_one_inert_value():
    hostile = 'filing"&operation=x&tags={"a":"b"}'
    kwargs = traces.search_kwargs(traces.TraceView(service=hostile, operation="} ]"), time_range("1h", NOW))
    assert kwargs["service"] == hostile and kwargs["operation"] == "} ]"


def test_search_kwargs_refuse_a_duration_that_is_not_one():
    with pytest.raises(ValueError, match="min_duration"):
        traces.search_kwargs(traces.TraceView(service="s", min_duration="1 OR 1"), time_range("1h", NOW))


def test_errors_only_also_scans_a_wider_unfiltered_search():
    tr = time_range("24h", NOW)
    tasks = traces.search_tasks(traces.TraceView(service="filing", errors_only=True), tr)
    assert tasks["search"]["tags"] == {"error": "true"} and tasks["search"]["limit"] == traces.SEARCH_LIMIT
    assert "tags" not in tasks["search_wide"] and tasks["search_wide"]["limit"] == traces.ERRORS_SCAN_LIMIT
    assert list(traces.search_tasks(traces.TraceView(service="filing"), tr)) == ["search"]


def test_merge_keeps_the_first_of_each_trace_and_every_warning():
    first = TraceList([summary("aa", 0, 1.0, True)], ("w1",))
    second = TraceList([summary("aa", 0, 2.0, True), summary("bb", 1, 3.0, False)], ("w2", "w1"))
    merged = traces.merge(first, None, second)
    assert [(t.trace_id, t.duration_ms) for t in merged] == [("aa", 1.0), ("bb", 3.0)]
    assert merged.warnings == ("w1", "w2")


def test_explicit_window_replaces_the_preset():
    start, end = NOW - timedelta(hours=60), NOW - timedelta(hours=56)
    tr = traces.TraceView(service="s", preset="7d", start=start, end=end).time_range(NOW)
    assert (tr.preset, tr.start, tr.end) == ("custom", start, end)


@pytest.mark.parametrize(
    ("start", "end", "ok"),
    [
        ("2026-11-25T10:00:00Z", "2026-11-25T14:00:00Z", True),
        ("2026-11-25T10:00:00+00:00", "2026-11-25T14:00:00", True),
        ("2026-11-25T14:00:00Z", "2026-11-25T10:00:00Z", False),  # reversed
        ("2026-10-01T00:00:00Z", "2026-11-25T00:00:00Z", False),  # longer than 31 days
        ("yesterday", "2026-11-25T10:00:00Z", False),
        (None, "2026-11-25T10:00:00Z", False),
    ],
)
def test_parse_window(start, end, ok):
    window = traces.parse_window(start, end)
    assert (window is not None) is ok
    if ok:
        assert window == (datetime(2026, 11, 25, 10, tzinfo=UTC), datetime(2026, 11, 25, 14, tzinfo=UTC))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f" {TRACE_ID.upper()} ", TRACE_ID),
        ("abc", "abc"),
        ("xyz", None),
        ("", None),
        (None, None),
        ("a" * 33, None),
    ],
)
def test_normalize_trace_id(text, expected):
    assert traces.normalize_trace_id(text) == expected


# -- links -----------------------------------------------------------------------------------------------


def test_link_of_the_default_view_names_only_the_service():
    link = traces.trace_link(traces.TraceView(service="filing"))
    assert link == "Traces?service=filing"


def test_link_carries_every_non_default_param_in_a_fixed_order():
    view = traces.TraceView(
        service="filing",
        operation="POST /vat/returns",
        preset="7d",
        errors_only=True,
        min_duration="1s",
        sort="time",
        trace_id=TRACE_ID,
    )
    link = links.absolute("https://h:8443/sextant/Logs", "sextant", traces.trace_link(view))
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "h:8443", "/sextant/Traces")
    assert "+" not in parts.query  # spaces as %20: chat apps keep them
    assert list(parse_qs(parts.query)) == [
        "service",
        "operation",
        "range",
        "errors_only",
        "min_duration",
        "sort",
        "trace",
    ]
    assert parse_qs(parts.query) == {
        "service": ["filing"],
        "operation": ["POST /vat/returns"],
        "range": ["7d"],
        "errors_only": ["true"],
        "min_duration": ["1s"],
        "sort": ["time"],
        "trace": [TRACE_ID],
    }


def test_link_with_a_window_drops_the_range_and_escapes_values():
    view = traces.TraceView(
        service="a&b=c #d",
        preset="7d",
        start=datetime(2026, 11, 25, 10, tzinfo=UTC),
        end=datetime(2026, 11, 25, 14, tzinfo=UTC),
    )
    link = traces.trace_link(view)
    assert link.startswith("Traces?service=a%26b%3Dc%20%23d&")
    assert parse_qs(urlsplit(link).query) == {
        "service": ["a&b=c #d"],
        "start": ["2026-11-25T10:00:00Z"],
        "end": ["2026-11-25T14:00:00Z"],
    }


# -- the trace list --------------------------------------------------------------------------------------


def summary(trace_id: str, minutes: int, duration: float, error: bool) -> TraceSummary:
    start = datetime(2026, 11, 27, 10, tzinfo=UTC) + timedelta(minutes=minutes)
    return TraceSummary(
        trace_id, "gateway", "POST /api/filings", start, duration, 3, error, ("filing", "gateway")
    )


FOUND = TraceList(
    [summary("aa", 0, 50.0, False), summary("bb", 5, 900.0, True), summary("cc", 9, 10.0, True)]
)


def test_table_sorts_by_duration_or_time_and_joins_services():
    by_duration = traces.traces_table(FOUND, "duration")
    assert list(by_duration["trace_id"]) == ["bb", "aa", "cc"]
    assert by_duration["services"].iloc[0] == "filing, gateway"
    assert list(traces.traces_table(FOUND, "time")["trace_id"]) == ["cc", "bb", "aa"]
    assert list(traces.traces_table(FOUND, "duration", errors_only=True)["trace_id"]) == ["bb", "cc"]
    assert traces.slowest_trace_id(FOUND) == "bb"


def test_empty_table_keeps_its_columns():
    table = traces.traces_table(TraceList())
    assert table.empty and "duration_ms" in table.columns
    assert traces.slowest_trace_id(None) is None


def test_default_service_prefers_the_entry_point():
    assert traces.default_service(["assistant", "filing", "gateway"]) == "gateway"
    assert traces.default_service(["assistant", "filing"]) == "assistant"
    assert traces.default_service([]) is None


# -- the span tree ---------------------------------------------------------------------------------------


def test_waterfall_rows_are_depth_first_with_children_by_start():
    rows = traces.waterfall_rows(TREE).set_index("span_id")
    assert list(rows.index) == ["r", "a", "b", "g", "o"]
    assert list(rows["depth"]) == [0, 1, 1, 2, 0]  # the orphan counts as a root
    assert rows.loc["g", "label"] == "\u00a0" * 4 + "hmrc.submit (filing)"
    assert (rows.loc["b", "start_ms"], rows.loc["b", "end_ms"]) == (30.0, 90.0)
    assert rows.loc["b", "detail"] == "HMRC 503; HTTP 503"
    assert list(rows["error"]) == [False, False, True, True, False]


def test_detail_names_failures_not_successes():
    rows = traces.waterfall_rows(
        spans(
            ("ok", None, "filing", "POST /vat/returns", 0, 10, False, {"http.status_code": 200}),
            (
                "bad",
                "ok",
                "filing",
                "hmrc.submit",
                1,
                5,
                True,
                {
                    "http.status_code": 503,
                    "hmrc.error_code": "SERVICE_UNAVAILABLE",
                    "otel.status_description": "error",
                },
            ),
            ("rej", "ok", "filing", "hmrc.submit", 6, 1, False, {"http.status_code": 400}),
        )
    ).set_index("span_id")
    assert rows["detail"].to_dict() == {"ok": "", "bad": "SERVICE_UNAVAILABLE; HTTP 503", "rej": "HTTP 400"}


def test_self_time_removes_the_union_of_children():
    rows = traces.waterfall_rows(TREE).set_index("span_id")
    # root 100 ms minus [10,90] covered by its overlapping children
    assert rows["self_ms"].to_dict() == {"r": 20.0, "a": 30.0, "b": 30.0, "g": 30.0, "o": 1.0}


def test_critical_path_follows_the_last_finishing_child():
    rows = traces.waterfall_rows(TREE).set_index("span_id")
    # r: 90..100 and 0..30 (a was still running when b started, so r did not wait on it);
    # b: 80..90 and 30..50; g: 50..80
    assert rows["critical_ms"].to_dict() == {"r": 40.0, "a": 0.0, "b": 30.0, "g": 30.0, "o": 1.0}
    tree = rows.drop(index="o")
    assert tree["critical_ms"].sum() == 100.0  # adds up to the root's duration
    assert list(rows["on_critical_path"]) == [True, False, True, True, True]


def test_a_child_that_ends_early_is_off_the_critical_path():
    rows = traces.waterfall_rows(
        spans(
            ("r", None, "s", "root", 0, 100, False),
            ("early", "r", "s", "cache", 0, 10, False),
            ("late", "r", "s", "db", 5, 95, False),
        )
    ).set_index("span_id")
    assert rows.loc["early", "critical_ms"] == 0.0 and not rows.loc["early", "on_critical_path"]
    assert rows.loc["late", "critical_ms"] == 95.0
    assert rows.loc["r", "critical_ms"] == 5.0


def test_sequential_children_are_all_on_the_critical_path():
    rows = traces.waterfall_rows(
        spans(
            ("r", None, "s", "root", 0, 100, False),
            ("one", "r", "s", "a", 10, 20, False),
            ("two", "r", "s", "b", 40, 30, False),
            ("three", "r", "t", "c", 75, 20, False),
        )
    ).set_index("span_id")
    assert rows["critical_ms"].to_dict() == {"r": 30.0, "one": 20.0, "two": 30.0, "three": 20.0}


def test_children_overrunning_their_parent_are_clipped():
    rows = traces.waterfall_rows(
        spans(("r", None, "s", "root", 0, 10, False), ("c", "r", "t", "async", 5, 50, False))
    ).set_index("span_id")
    assert rows.loc["c", "critical_ms"] == 5.0 and rows.loc["r", "critical_ms"] == 5.0
    assert rows.loc["r", "self_ms"] == 5.0


def test_repeated_operations_keep_a_row_each():
    rows = traces.waterfall_rows(
        spans(
            ("r", None, "filing", "submit", 0, 30, False),
            ("t1", "r", "filing", "hmrc.submit", 0, 10, True),
            ("t2", "r", "filing", "hmrc.submit", 10, 10, True),
            ("t3", "r", "filing", "hmrc.submit", 20, 10, False),
        )
    )
    assert rows["row"].tolist() == [0, 1, 2, 3]  # the chart's rows are keyed by `row`
    assert rows["span_id"].tolist() == ["r", "t1", "t2", "t3"]
    assert rows["label"].tolist()[1:] == ["\u00a0\u00a0hmrc.submit (filing)"] * 3
    chart = traces.waterfall_chart(rows).to_dict()
    assert chart["hconcat"][0]["encoding"]["y"]["field"] == "key"


def test_a_span_received_twice_is_shown_once():
    rows = traces.waterfall_rows(pd.concat([TREE, TREE], ignore_index=True))
    assert list(rows["span_id"]) == ["r", "a", "b", "g", "o"]
    assert rows["critical_ms"].sum() == 101.0


def test_cycles_and_self_parents_do_not_loop():
    rows = traces.waterfall_rows(
        spans(
            ("x", "y", "s", "one", 0, 10, False),
            ("y", "x", "s", "two", 1, 5, False),
            ("z", "z", "s", "self", 2, 1, False),
        )
    )
    assert sorted(rows["span_id"]) == ["x", "y", "z"]


def test_empty_trace_gives_empty_frames():
    assert traces.waterfall_rows(pd.DataFrame()).empty
    assert traces.service_share(traces.waterfall_rows(pd.DataFrame())).empty


def test_service_share_adds_up_to_the_critical_path():
    share = traces.service_share(traces.waterfall_rows(TREE)).set_index("service")
    assert share.loc["filing", "critical_ms"] == 60.0
    assert share.loc["filing", "errors"] == 2 and share.loc["filing", "spans"] == 3
    assert share.loc["gateway", "self_ms"] == 20.0
    assert share["critical_share"].sum() == pytest.approx(1.0)
    assert list(share.index) == ["filing", "gateway", "assistant"]
    assert share.loc["gateway", "critical_ms"] == 40.0


def test_waterfall_chart_marks_failed_spans_and_indents_names():
    spec = traces.waterfall_chart(traces.waterfall_rows(TREE)).to_dict()
    names, timeline = spec["hconcat"]
    bars, marks = timeline["layer"]
    data = spec["datasets"][spec["data"]["name"]]
    assert [(d["name"], d["depth"]) for d in data][2:4] == [
        ("submit · filing", 1),
        ("hmrc.submit · filing", 2),
    ]
    assert names["encoding"]["x"]["field"] == "depth"  # the indent
    assert names["encoding"]["color"]["condition"]["test"] == "datum.error"
    assert bars["encoding"]["stroke"]["condition"]["test"] == "datum.error"
    assert bars["encoding"]["y"]["sort"] == ["0", "1", "2", "3", "4"]  # one row per span, tree order
    assert marks["transform"] == [{"filter": "datum.error"}]
    assert spec["resolve"] == {"scale": {"y": "shared"}}


# -- the loader on fakes ---------------------------------------------------------------------------------


class FakeJaeger:
    """Holds the traces of FOUND and answers a search as Jaeger does: the traces that touch the service,
    started in [start, end], with that root operation and at least that long if asked, newest first, at
    most `limit`. With `error_tag_works=False` the `error=true` tag finds nothing, as on Jaeger 2.x's
    memory store (jaegertracing/jaeger#8553)."""

    url = "fake://jaeger"

    def __init__(self, fail: bool = False, error_tag_works: bool = True) -> None:
        self.fail = fail
        self.error_tag_works = error_tag_works
        self.calls: list[tuple] = []

    def _check(self) -> None:
        if self.fail:
            raise BackendUnavailable("jaeger", "connection refused")

    def services(self):
        self.calls.append(("services",))
        self._check()
        return ["assistant", "filing", "gateway"]

    def operations(self, service):
        self.calls.append(("operations", service))
        self._check()
        return ["POST /vat/returns", "hmrc.submit"]

    def search(self, service, *, start, end, operation=None, tags=None, min_duration=None, limit=20):
        self.calls.append(("search", service, start))
        self._check()
        shortest = pd.Timedelta(min_duration or 0) / pd.Timedelta(milliseconds=1)
        found = [
            t
            for t in FOUND
            if service in t.services
            and pd.Timestamp(start) <= t.start <= pd.Timestamp(end)
            and operation in (None, t.root_operation)
            and t.duration_ms >= shortest
            and (not tags or (tags == {"error": "true"} and t.error and self.error_tag_works))
        ]
        newest_first = sorted(found, key=lambda t: t.start, reverse=True)
        return TraceList(newest_first[: int(limit)], ("one of the spans was dropped",))

    def trace(self, trace_id):
        self.calls.append(("trace", trace_id))
        self._check()
        if trace_id == "dead":
            raise QueryRejected("jaeger", "trace not found", 404)
        return Trace(trace_id, TREE)


class FakeOpenSearch:
    url = "fake://opensearch"

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.bodies: list[dict] = []

    def search(self, index, body):
        self.bodies.append(body)
        if self.fail:
            raise BackendUnavailable("opensearch", "connection refused")
        trace_id = body["query"]["bool"]["filter"][0]["term"]["trace_id"]
        hits = [
            {
                "_id": "1",
                "_source": {
                    "@timestamp": "2026-11-27T10:00:00.010Z",
                    "level": "info",
                    "trace_id": trace_id,
                    "message": "start",
                },
            },
            {
                "_id": "2",
                "_source": {
                    "@timestamp": "2026-11-27T10:00:00.080Z",
                    "level": "error",
                    "trace_id": trace_id,
                    "message": "HMRC 503 <b>x</b>",
                },
            },
        ]
        return SearchResult(hits=hits_frame(hits), aggregations={}, total=2)


def sources(jaeger=None, opensearch=None) -> Sources:
    return Sources(
        prometheus=UNASKED,
        opensearch=opensearch or FakeOpenSearch(),
        jaeger=jaeger or FakeJaeger(),
        mode="live",
    )


def test_load_searches_and_opens_the_picked_trace_with_its_logs():
    jaeger, opensearch = FakeJaeger(), FakeOpenSearch()
    view = traces.TraceView(service="filing", trace_id=TRACE_ID.upper())
    page = traces.load(sources(jaeger, opensearch), view, NOW, ResultCache())
    assert list(page.table["trace_id"]) == ["bb", "aa", "cc"]
    assert page.detail is not None and page.detail.trace_id == TRACE_ID
    assert page.detail.duration_ms == 100.0 and len(page.detail.rows) == 5
    assert list(page.logs["message"]) == ["start", "HMRC 503 <b>x</b>"]  # kept as text, shown as a cell
    assert page.logs_total == 2
    assert opensearch.bodies[0]["query"]["bool"]["filter"] == [{"term": {"trace_id": TRACE_ID}}]
    assert page.problems() == [] and page.warnings("search") == ["one of the spans was dropped"]


def test_jaeger_down_leaves_the_trace_logs_on_screen():
    view = traces.TraceView(service="filing", trace_id=TRACE_ID)
    page = traces.load(sources(FakeJaeger(fail=True)), view, NOW, ResultCache())
    assert page.table.empty and page.detail is None
    assert {b for b, _ in page.problems()} == {"jaeger"}
    assert [b for b, _ in page.problems("logs")] == []
    assert len(page.logs) == 2


def test_opensearch_down_leaves_the_traces_on_screen():
    view = traces.TraceView(service="filing", trace_id=TRACE_ID)
    page = traces.load(sources(opensearch=FakeOpenSearch(fail=True)), view, NOW, ResultCache())
    assert not page.table.empty and page.detail is not None
    assert [b for b, _ in page.problems()] == ["opensearch"]
    assert page.logs.empty


def test_unknown_trace_is_a_problem_of_the_trace_panel_only():
    page = traces.load(sources(), traces.TraceView(service="filing", trace_id="dead"), NOW, ResultCache())
    assert [b for b, _ in page.problems("trace")] == ["jaeger"] and page.problems("search") == []


def test_not_a_trace_id_asks_nothing():
    jaeger = FakeJaeger()
    page = traces.load(sources(jaeger), traces.TraceView(service="", trace_id="../etc"), NOW, ResultCache())
    assert jaeger.calls == [] and page.detail is None and page.outcomes == {}


def test_errors_only_lists_failed_traces_of_both_searches():
    jaeger = FakeJaeger()
    page = traces.load(
        sources(jaeger), traces.TraceView(service="filing", errors_only=True), NOW, ResultCache()
    )
    assert sorted(c[0] for c in jaeger.calls) == ["search", "search"]
    assert list(page.table["trace_id"]) == ["bb", "cc"] and page.problems() == []
    assert page.warnings("search") == ["one of the spans was dropped"] * 2
    # A store whose error tag finds nothing (Jaeger 2.x in memory): the wider search still finds them.
    blind = FakeJaeger(error_tag_works=False)
    view = traces.TraceView(service="filing", errors_only=True)
    assert list(traces.load(sources(blind), view, NOW, ResultCache()).table["trace_id"]) == ["bb", "cc"]


def test_the_views_filters_reach_the_search():
    def found(**view) -> list[str]:
        page = traces.load(sources(), traces.TraceView(**view), NOW, ResultCache())
        return list(page.table["trace_id"])

    assert found(service="filing") == ["bb", "aa", "cc"]
    assert found(service="assistant") == []  # no trace touches it
    assert found(service="filing", preset="1h") == []  # the traces are 16 hours old
    assert found(service="filing", operation="POST /api/filings") == ["bb", "aa", "cc"]
    assert found(service="filing", operation="hmrc.submit") == []
    assert found(service="filing", min_duration="40ms") == ["bb", "aa"]


def test_picking_a_trace_does_not_search_again():
    jaeger, cache = FakeJaeger(), ResultCache()
    traces.load(sources(jaeger), traces.TraceView(service="filing"), NOW, cache)
    traces.load(sources(jaeger), traces.TraceView(service="filing", trace_id="aa"), NOW, cache)
    assert [c[0] for c in jaeger.calls] == ["search", "trace"]


def test_a_rerun_reuses_the_trace_detail_and_its_reveal_tokens():
    """The span tree of a cached trace is built once (10,000 spans take a second), and a rerun still
    collects the tokens its masked attributes stand for; a trace fetched again is built again."""
    tagged = TREE.copy()
    tagged.at[0, "tags"] = {"customer": "jo@example.com"}

    class OneTrace(FakeJaeger):
        def trace(self, trace_id):
            self.calls.append(("trace", trace_id))
            return Trace(trace_id, tagged)

    jaeger, cache = OneTrace(), ResultCache()
    served = sources(jaeger)  # one per process in the app, and so its masker
    view = traces.TraceView(service="filing", trace_id=TRACE_ID)
    first = traces.load(served, view, NOW, cache)
    again = traces.load(served, view, NOW, cache)
    assert again.detail is first.detail and jaeger.calls.count(("trace", TRACE_ID)) == 1
    assert "jo@example.com" in again.tokens.values() and again.tokens == first.tokens
    refetched = traces.load(served, view, NOW, ResultCache())
    assert refetched.detail is not first.detail
    pd.testing.assert_frame_equal(refetched.detail.rows, first.detail.rows)


def test_the_waterfall_chart_is_built_once_per_trace_detail():
    detail = traces.detail_of(Trace(TRACE_ID, TREE))
    chart = detail.chart(detail.rows)
    assert detail.chart(detail.rows) is chart and detail.chart(detail.folded.rows) is not chart
    assert chart.to_dict() == traces.waterfall_chart(detail.rows).to_dict()
    other = detail.rows.head(2)  # rows that are not the detail's own are drawn afresh
    assert detail.chart(other) is not detail.chart(other)
