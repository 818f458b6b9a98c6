"""Chart builders: plots tall enough to read, and annotations that never stretch a chart's time span."""

from __future__ import annotations

import re

import pandas as pd

from app.ui import charts

T0 = pd.Timestamp("2026-12-01 12:00", tz="UTC")


def curve(hours: int, step: str = "5min") -> pd.DataFrame:
    times = pd.date_range(T0, T0 + pd.Timedelta(hours=hours), freq=step)
    return pd.DataFrame({"timestamp": times, "window": "1h", "value": 1.0})


def test_the_plot_itself_is_at_least_160_px_tall_whatever_its_legend():
    spec = charts.timeseries(curve(1), title="t", unit="x", color="window").to_dict()
    assert spec["height"] >= 160
    # the container sets the width only: a legend of seven windows adds to the height, never takes from it
    assert spec["autosize"] == {"type": "fit-x", "contains": "padding"}


def test_incidents_outside_the_curves_span_are_left_out_and_long_ones_cut_to_it():
    incidents = pd.DataFrame(
        {
            "start": [T0 - pd.Timedelta(days=6), T0 - pd.Timedelta(days=2), T0 + pd.Timedelta(minutes=30)],
            "end": [T0 - pd.Timedelta(days=5), T0 + pd.Timedelta(minutes=10), T0 + pd.Timedelta(days=3)],
            "title": ["last week", "began before", "still going"],
        }
    )
    spec = charts.timeseries(curve(1), title="t", unit="ratio", annotations=incidents).to_dict()
    shaded = next(rows for rows in spec["datasets"].values() if rows and "title" in rows[0])
    assert [r["title"] for r in shaded] == ["began before", "still going"]
    assert pd.Timestamp(shaded[0]["start"]) == T0 and pd.Timestamp(shaded[1]["end"]) == T0 + pd.Timedelta(
        hours=1
    )


def test_a_month_is_labelled_by_date_a_week_by_weekday_and_an_hour_by_time_of_day():
    def axis_format(hours: int) -> str:
        chart = charts.timeseries(curve(hours, "1h"), title="t", unit="ratio")
        return chart.to_dict()["encoding"]["x"]["axis"]["format"]

    assert axis_format(24 * 30) == "%d %b"
    assert axis_format(24 * 7) == "%a %d %b"
    assert axis_format(1) == axis_format(24) == "%H:%M"


def test_the_value_axis_starts_at_zero_unless_asked_to_fit_the_lines():
    def scale(**options) -> dict:
        return charts.timeseries(curve(1), title="t", unit="ratio", **options).to_dict()["encoding"]["y"][
            "scale"
        ]

    assert scale() == {"zero": True}
    assert scale(zero=False) == {"zero": False}  # an SLI at 99.9% against its 98% objective


def test_an_age_of_hours_is_charted_in_hours_and_its_threshold_with_it():
    """The Tax page's oldest waiting item reads "5.9 h": its chart must not leave 21,240 s to convert."""
    ages = curve(1).assign(value=5.9 * 3600)
    spec = charts.timeseries(ages, title="t", unit="seconds", thresholds=[("1 hour", 3600.0)]).to_dict()
    layers = spec["layer"]
    line = next(layer for layer in layers if layer["mark"]["type"] == "line")
    assert line["encoding"]["y"]["title"] == "hours"
    values = [row["value"] for rows in spec["datasets"].values() for row in rows if "label" not in row]
    assert values and all(abs(v - 5.9) < 1e-9 for v in values)
    rules = [row for rows in spec["datasets"].values() for row in rows if "label" in row]
    assert rules == [{"label": "1 hour", "value": 1.0}]
    short = charts.timeseries(curve(1).assign(value=42.0), title="t", unit="seconds").to_dict()
    assert short["encoding"]["y"]["title"] == "seconds"  # under two minutes: seconds as they are


def test_small_figures_read_as_decimals_and_a_legend_fits_a_third_of_the_page():
    """0.8 requests a second read "0.8", not SI's "800m"; six services' legend fits a chart a third of the
    page wide (three columns of "reconciliation" were cut at its edge)."""
    for unit in ("req/s", "seconds"):
        spec = charts.timeseries(curve(1), title="t", unit=unit, color="window").to_dict()
        formats = re.findall(r"'format': '([^']*)'", str(spec))
        assert formats and not [f for f in formats if f.endswith("s") and "%" not in f], (unit, formats)
        assert spec["config"]["legend"]["columns"] <= 2


def test_a_weekly_trend_says_when_it_scores() -> None:
    def times(*texts: str) -> pd.Series:
        return pd.Series(pd.to_datetime(list(texts), utc=True))

    same_hour = times("2026-11-23T07:00Z", "2026-11-30T07:00Z", "2026-12-07T07:41Z")
    assert charts.weekly_moment(same_hour) == "Scored each Mon at 07:00 UTC, the last at Mon 07:41"
    week_ends = times("2026-11-23T00:00Z", "2026-11-30T00:00Z", "2026-12-07T00:00Z")
    assert charts.weekly_moment(week_ends) == "Scored each Mon at 00:00 UTC"
    assert charts.weekly_moment(pd.concat([week_ends, week_ends])) == "Scored each Mon at 00:00 UTC"
    assert charts.weekly_moment(times("2026-11-23T00:00Z", "2026-11-24T06:00Z", "2026-12-07T00:00Z")) == ""
    assert charts.weekly_moment(times("2026-12-07T00:00Z")) == ""
    chart = charts.readiness_trend(
        pd.DataFrame(
            {"timestamp": same_hour, "series": "all client firms", "value": [50.0, 60.0, 70.0], "label": "x"}
        ),
        target=90,
    ).to_dict()
    assert chart["title"]["subtitle"] == ["Scored each Mon at 07:00 UTC, the last at Mon 07:41"]


def test_a_curve_sends_the_browser_only_the_columns_it_draws():
    frame = curve(1).assign(series="p95", route="/ingest/document", legend="p95 · /ingest/document")
    spec = charts.timeseries(frame, title="t", unit="ratio", color="legend").to_dict()
    (points,) = [rows for rows in spec["datasets"].values() if rows and "timestamp" in rows[0]]
    assert set(points[0]) == {"timestamp", "value", "legend"}
    uncoloured = charts.timeseries(frame, title="t", unit="ratio").to_dict()
    (points,) = [rows for rows in uncoloured["datasets"].values() if rows and "timestamp" in rows[0]]
    assert set(points[0]) == {"timestamp", "value"}
