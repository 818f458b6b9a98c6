"""Charts of many series: the top ones by the figure that matters, the rest as "others", said on screen."""

from __future__ import annotations

import pandas as pd
import pytest

from app.topn import OTHERS, bars_note, top_and_others, top_bars

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
