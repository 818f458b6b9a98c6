"""Charts of many series: the top ones by the figure that matters, the rest as "others", said on screen."""

from __future__ import annotations

import pandas as pd
import pytest

from app.topn import OTHERS, bars_note, top_and_others, top_bars, top_groups

STAMPS = pd.to_datetime(["2026-11-28T00:00Z", "2026-11-28T00:01Z"])


def curves(values: dict[str, tuple[float, float]]) -> pd.DataFrame:
    rows = [
        {"service": name, "timestamp": stamp, "value": v}
        for name, pair in values.items()
        for stamp, v in zip(STAMPS, pair, strict=True)
    ]
    return pd.DataFrame(rows)


def by_service(frame: pd.DataFrame) -> dict[str, list[float]]:
    return {name: group["value"].tolist() for name, group in frame.groupby("service")}


def test_few_series_are_drawn_as_they_are():
    frame = curves({f"s{i}": (1.0, 2.0) for i in range(4)})
    reduced = top_and_others(frame, "service", {}, how="sum", n=3)  # 4 = n + 1: nothing worth folding
    assert reduced.frame.equals(frame) and reduced.note("services", "highest rate") is None


def test_the_rest_is_summed_into_others_and_said_so():
    frame = curves({"a": (5.0, 5.0), "b": (1.0, 3.0), "c": (2.0, 2.0), "d": (0.5, 0.5), "e": (0.1, 0.2)})
    ranking = {"a": 5.0, "b": 2.0, "c": 2.5, "d": 0.5, "e": 0.15}
    reduced = top_and_others(frame, "service", ranking, how="sum", n=2)
    assert by_service(reduced.frame) == {"a": [5.0, 5.0], "c": [2.0, 2.0], OTHERS: [1.6, 3.7]}
    assert reduced.note("services", "highest request rate") == (
        'The 2 services with the highest request rate; the other 3 drawn as "others" (their sum).'
    )


def test_a_ratio_is_combined_weighted_and_a_quantile_by_the_highest():
    ratio = curves({"a": (0.5, 0.5), "b": (0.1, 0.0), "c": (0.3, 0.2), "d": (0.0, 0.4)})
    rate = curves({"a": (1.0, 1.0), "b": (3.0, 1.0), "c": (1.0, 1.0), "d": (1.0, 0.0)})
    ranking = {"a": 0.5, "b": 0.05, "c": 0.25, "d": None}  # no figure: ranks last
    weighted = top_and_others(ratio, "service", ranking, how="weighted", weights=rate, n=1)
    assert by_service(weighted.frame)[OTHERS] == pytest.approx([0.6 / 5.0, 0.2 / 2.0])
    highest = top_and_others(ratio, "service", ranking, how="max", n=1)
    assert by_service(highest.frame)[OTHERS] == [0.3, 0.4]
    assert highest.folded == 3 and "the highest of them" in (highest.note("services", "x") or "")


def test_many_bars_keep_the_furthest_from_the_threshold_and_one_bar_for_the_rest():
    frame = pd.DataFrame(
        {"legend": [f"firm-{i:03d}" for i in range(100)], "value": [i / 100 for i in range(100)]}
    )
    reduced = top_bars(frame, "legend", lowest_first=True, n=20)
    assert reduced.frame["legend"].tolist()[:2] == ["firm-000", "firm-001"]
    assert reduced.frame.iloc[-1].to_dict() == {"legend": "others (80)", "value": 0.2}
    assert bars_note(reduced, lowest_first=True) == (
        'The 20 lowest of 100 bars; the other 80 are one bar, "others (80)", at the lowest figure among them.'
    )
    highest = top_bars(frame, "legend", lowest_first=False, n=5)
    assert highest.frame["legend"].tolist() == [f"firm-0{i}" for i in (99, 98, 97, 96, 95)] + ["others (95)"]
    assert top_bars(frame.head(21), "legend", lowest_first=True, n=20).folded == 0


def panel_curves(routes: dict[str, dict[str, tuple[float, float]]]) -> pd.DataFrame:
    """A dashboard panel's curves: per route, per series (p50, p95), two points."""
    rows = [
        {"series": series, "legend": " · ".join(filter(None, (series, route))), "route": route}
        | {"timestamp": stamp, "value": v}
        for route, by_series in routes.items()
        for series, pair in by_series.items()
        for stamp, v in zip(STAMPS, pair, strict=True)
    ]
    return pd.DataFrame(rows)


def lines(frame: pd.DataFrame) -> dict[str, list[float]]:
    return {legend: group["value"].tolist() for legend, group in frame.groupby("legend")}


def test_a_panel_keeps_whole_routes_by_their_worst_series_and_folds_the_rest_per_series():
    routes = {
        f"/r{i}": {"p50": (0.1 * i, 0.1 * i), "p95": (float(i), float(i))} for i in range(1, 7)
    }  # /r6 slowest
    routes["/r1"]["p95"] = (9.0, 1.0)  # the slowest p95 at one point: ranks /r1 first by its worst figure
    figures = pd.DataFrame(
        [{"series": s, "route": r, "value": max(pair)} for r, by in routes.items() for s, pair in by.items()]
    )
    reduced = top_groups(
        panel_curves(routes), figures, ["route"], how="max", lines=4
    )  # 2 series: 2 routes kept
    drawn = lines(reduced.frame)
    assert set(drawn) == {"p50 · /r1", "p95 · /r1", "p50 · /r6", "p95 · /r6", "p50 · others", "p95 · others"}
    assert drawn["p95 · others"] == [5.0, 5.0] and drawn["p50 · others"] == pytest.approx([0.5, 0.5])
    others = reduced.frame[reduced.frame["legend"] == "p95 · others"]
    assert set(others["route"]) == {OTHERS} and set(others["series"]) == {"p95"}
    assert (reduced.kept, reduced.folded) == (2, 4)
    assert reduced.note("routes", "highest figure over the range") == (
        "The 2 routes with the highest figure over the range; "
        'the other 4 drawn as "others" (the highest of them).'
    )


def test_a_rate_panel_sums_the_rest_and_a_floor_keeps_the_lowest():
    routes = {f"/r{i}": {"": (float(i), float(i))} for i in range(1, 6)}
    summed = top_groups(
        panel_curves(routes), None, ["route"], how="sum", lines=2
    )  # no figures: ranked by the curves
    assert lines(summed.frame) == {"/r5": [5.0, 5.0], "/r4": [4.0, 4.0], OTHERS: [6.0, 6.0]}
    floor = top_groups(panel_curves(routes), None, ["route"], how="min", lowest_first=True, lines=2)
    assert lines(floor.frame) == {"/r1": [1.0, 1.0], "/r2": [2.0, 2.0], OTHERS: [3.0, 3.0]}
    assert "the lowest of them" in (floor.note("routes", "lowest figure") or "")


def test_a_panel_with_one_group_to_spare_or_no_labels_is_drawn_as_it_is():
    routes = {f"/r{i}": {"p50": (1.0, 1.0), "p95": (2.0, 2.0)} for i in range(3)}
    frame = panel_curves(routes)
    assert top_groups(frame, None, ["route"], how="max", lines=4).frame is frame  # 3 routes = 2 kept + 1
    unlabelled = frame.drop(columns="route")
    assert top_groups(unlabelled, None, [], how="max", lines=1).frame is unlabelled
