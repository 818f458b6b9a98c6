"""Incidents as one frame: lenient times, one policy for an ongoing incident, and never a crash."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pandas as pd

from app import incidents

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def result(*docs: dict) -> SimpleNamespace:
    return SimpleNamespace(hits=pd.DataFrame(list(docs)))


def test_times_in_any_iso_8601_form_and_documents_without_a_start_left_out():
    found = incidents.frame(
        result(
            {"name": "a", "title": "A", "start": "2026-12-05T09:00:00Z", "end": None, "services": ["filing"]},
            {
                "name": "b",
                "start": "2026-12-05T08:18:37.333616Z",
                "end": "2026-12-05T10:00:00+01:00",
                "services": "gateway",
            },
            {"name": "c", "title": "C", "start": "not a time", "end": None, "services": []},
        )
    )
    assert found["name"].tolist() == ["b", "a"]  # oldest first; "c" has no usable start
    assert found["title"].tolist() == ["b", "A"]  # a missing title falls back to the name
    assert found["end"].iloc[0] == pd.Timestamp("2026-12-05T09:00:00Z")  # the offset is honoured
    assert found["ongoing"].tolist() == [False, True]
    assert found["services"].tolist() == [("gateway",), ("filing",)]


def test_an_ongoing_incident_lasts_until_the_end_of_the_window_and_keeps_its_real_start():
    found = incidents.frame(
        result(
            {
                "name": "old",
                "title": "Old",
                "start": "2026-12-01T00:00:00Z",
                "end": "2026-12-01T01:00:00Z",
                "services": ["filing"],
            },
            {
                "name": "now",
                "title": "Now",
                "start": "2026-12-04T00:00:00Z",
                "end": None,
                "services": ["filing"],
            },
            {
                "name": "other",
                "title": "Other",
                "start": "2026-12-05T10:00:00Z",
                "end": None,
                "services": ["assistant"],
            },
        )
    )
    shown = incidents.within(incidents.touching(found, ["filing"]), datetime(2026, 12, 5, tzinfo=UTC), NOW)
    assert shown["name"].tolist() == ["now"]
    row = shown.iloc[0]
    assert (row["start"], row["end"]) == (pd.Timestamp("2026-12-05T00:00:00Z"), pd.Timestamp(NOW))
    assert row["since"] == pd.Timestamp("2026-12-04T00:00:00Z") and row["ongoing"]


def test_nothing_found_or_nothing_fetched_is_an_empty_frame_with_every_column():
    for empty in (incidents.frame(None), incidents.frame(result()), incidents.frame(result({"name": "x"}))):
        assert empty.empty and list(empty.columns) == incidents.COLUMNS
        assert incidents.within(incidents.touching(empty, ["filing"]), NOW, NOW).empty
