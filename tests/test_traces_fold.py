"""app/traces/fold: a big trace's repeated spans grouped and deep spans folded, failures never hidden."""

from __future__ import annotations

import pandas as pd
import pytest

from app import traces
from app.traces.fold import fold
from tests.big_trace import big_trace, spans_frame
from tests.test_traces import spans

START_NS = 1_795_000_000_000_000_000


def rows_of(n: int, **kwargs) -> pd.DataFrame:
    return traces.waterfall_rows(spans_frame(big_trace(n, START_NS, **kwargs)))


def test_a_small_trace_keeps_a_row_per_span():
    rows = traces.waterfall_rows(
        spans(
            ("r", None, "filing", "submit", 0, 30, False),
            ("t1", "r", "filing", "hmrc.submit", 0, 10, False),
            ("t2", "r", "filing", "hmrc.submit", 10, 10, False),
        )
    )
    folded = fold(rows)
    assert not folded.folded and folded.summary() == ""
    assert folded.rows["span_id"].tolist() == ["r", "t1", "t2"]
    assert folded.rows["count"].tolist() == [1, 1, 1] and folded.rows["spans"].tolist() == [1, 1, 1]


def test_repeated_siblings_become_one_row_with_count_total_and_slowest():
    rows = rows_of(1_000, fail_every=0)  # 166 returns of 6 spans, 2 audit.write
    folded = fold(rows)
    assert folded.folded and folded.depth_limit is None
    table = folded.rows.set_index("operation")
    prepare = table.loc["prepare return"]
    assert prepare["count"] == 166 and prepare["spans"] == 166 * 6  # its members' subtrees inside
    members = rows[rows["operation"] == "prepare return"]
    assert prepare["total_ms"] == pytest.approx(members["duration_ms"].sum())
    assert prepare["slowest_ms"] == pytest.approx(members["duration_ms"].max())
    assert prepare["start_ms"] == members["start_ms"].min() and prepare["end_ms"] == members["end_ms"].max()
    audit = table.loc["audit.write"]
    assert (audit["count"], audit["spans"]) == (2, 2)
    assert folded.rows["spans"].sum() == 1_000  # every span stands somewhere, once
    assert len(folded.rows) == 4 and folded.groups == 2
    assert folded.summary().startswith("1,000 spans shown as 4 rows: 2 rows group repeated calls")


def test_a_failed_span_and_the_path_to_it_keep_their_own_rows():
    rows = rows_of(1_000, fail_every=50)  # returns 49, 99, 149 fail at hmrc.submit
    failed = rows[rows["error"]]
    assert len(failed) == 3
    folded = fold(rows)
    shown = folded.rows
    assert shown["spans"].sum() == 1_000
    failed_rows = shown[shown["error"]]
    assert sorted(failed_rows["span_id"]) == sorted(failed["span_id"])  # each its own row
    assert (failed_rows["count"] == 1).all()
    grouped = shown[shown["count"] > 1]
    # no group holds a failure: its members (and their subtrees) are all spans that did not fail
    held = set(",".join(grouped["span_id"]).split(","))
    parent_of = dict(zip(rows["span_id"], rows["parent_id"], strict=True))
    for span_id in failed["span_id"]:
        path = span_id
        while isinstance(path, str):  # up to the root (no parent)
            assert path not in held
            assert path in set(shown["span_id"])  # the failure's ancestors are drawn too
            path = parent_of[path]
    prepare = shown[(shown["operation"] == "prepare return") & (shown["count"] > 1)]
    assert prepare["count"].tolist() == [166 - 3]


def test_failed_siblings_are_not_grouped_with_the_others():
    tree = [("r", None, "filing", "submit", 0, 100, False)]
    tree += [(f"t{k}", "r", "filing", "hmrc.submit", k, 1, k == 3) for k in range(6)]
    folded = fold(traces.waterfall_rows(spans(*tree)), max_rows=3)
    assert folded.rows[["span_id", "count", "error"]].values.tolist() == [
        ["r", 1, False],
        ["t0,t1,t2,t4,t5", 5, False],
        ["t3", 1, True],
    ]


def test_deep_spans_fold_into_their_ancestor_at_the_deepest_depth_that_fits():
    # a chain r -> c1 -> c2 -> ... -> c9, each with two distinct leaves: nothing repeats, so depth decides
    tree = [("c0", None, "filing", "op0", 0, 100, False)]
    for d in range(1, 10):
        tree.append((f"c{d}", f"c{d - 1}", "filing", f"op{d}", d, 100 - 2 * d, False))
        tree.append((f"x{d}", f"c{d - 1}", "ml", f"leaf{d}", d, 1, False))
    rows = traces.waterfall_rows(spans(*tree))
    folded = fold(rows, max_rows=9)
    assert folded.depth_limit == 4  # depths 0..4 drawn: c0..c4 and x1..x4 (9 rows); depth 5 would be 11
    assert len(folded.rows) == 9 and folded.rows["depth"].max() == 4
    assert folded.rows["spans"].sum() == len(rows)
    deepest = folded.rows.set_index("span_id").loc["c4"]
    assert deepest["spans"] == len(rows) - 8  # c4 and everything below it
    assert "spans below depth 4 are folded into their ancestor" in folded.summary()


def test_a_failure_below_the_depth_limit_is_still_drawn_with_its_path():
    tree = [("c0", None, "filing", "op0", 0, 100, False)]
    for d in range(1, 10):
        tree.append((f"c{d}", f"c{d - 1}", "filing", f"op{d}", d, 100 - 2 * d, d == 9))
        tree.append((f"x{d}", f"c{d - 1}", "ml", f"leaf{d}", d, 1, False))
    folded = fold(traces.waterfall_rows(spans(*tree)), max_rows=9)
    shown = folded.rows.set_index("span_id")
    assert bool(shown.loc["c9", "error"]) and {f"c{d}" for d in range(10)} <= set(shown.index)
    assert folded.rows["spans"].sum() == 19


@pytest.mark.parametrize("n", [1_000, 10_000])
def test_big_traces_fit_the_chart(n):
    rows = rows_of(n)
    folded = fold(rows)
    assert len(folded.rows) <= traces.CHART_MAX_SPANS
    assert folded.rows["spans"].sum() == n
    assert int(folded.rows["error"].sum()) == int(rows["error"].sum()) > 0
