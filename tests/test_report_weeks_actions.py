"""ISO weeks and the action items of the weekly review (no backend)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest

from app.report.actions import ActionError, ActionStore
from app.report.review import available, format_duration, review_time
from app.report.weeks import IsoWeek, last_full_week, parse_week, week_of

W47, W48, W49 = IsoWeek(2026, 47), IsoWeek(2026, 48), IsoWeek(2026, 49)


# -- weeks -------------------------------------------------------------------------------------------------


def test_a_week_runs_from_monday_to_monday_utc():
    week = parse_week("2026-W48")
    assert (week.start, week.end) == (datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))
    assert str(week) == "2026-W48" and week.label == "Week 48, Mon 23 Nov – Sun 29 Nov 2026"
    assert week_of(datetime(2026, 11, 29, 23, 59, tzinfo=UTC)) == week
    assert week_of(datetime(2026, 11, 30, tzinfo=UTC)) == W49


def test_weeks_cross_the_year_as_iso_counts_them():
    assert parse_week("2026-W53").next() == IsoWeek(2027, 1)  # 2026 has 53 ISO weeks
    assert IsoWeek(2027, 1).previous() == IsoWeek(2026, 53)
    assert IsoWeek(2027, 1).start == datetime(2027, 1, 4, tzinfo=UTC)
    assert parse_week("2026w48") == parse_week(" 2026-W48 ") == W48


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("2026-48", "is not a week such as 2026-W48"),
        ("2027-W53", "2027 has weeks 1 to 52, not 53"),
        ("2026-W00", "has weeks 1 to 53, not 0"),
        ("1969-W10", "outside the years Sextant can show"),
        ("<script>", "is not a week"),
        ("", "is not a week"),
    ],
)
def test_a_bad_week_is_refused_in_words(text, words):
    with pytest.raises(ValueError, match=words):
        parse_week(text)


def test_the_last_full_week_and_the_review_time():
    monday_morning = datetime(2026, 11, 30, 6, 15, tzinfo=UTC)
    assert last_full_week(monday_morning) == W48
    assert W48.is_over(monday_morning) and not W49.is_over(monday_morning)
    assert review_time(W48, monday_morning) == W48.end  # a finished week: at its end
    assert review_time(W49, monday_morning) == datetime(2026, 11, 30, 6, 15, tzinfo=UTC)  # so far
    assert available(W49, monday_morning) and not available(W49.next(), monday_morning)


@pytest.mark.parametrize(
    ("minutes", "text"), [(240, "4 h 0 min"), (35, "35 min"), (3060, "2 days 3 h"), (None, "ongoing")]
)
def test_durations_in_words(minutes, text):
    from datetime import timedelta

    assert format_duration(None if minutes is None else timedelta(minutes=minutes)) == text


# -- action items --------------------------------------------------------------------------------------------


def test_an_open_item_is_carried_until_the_week_it_is_closed(tmp_path):
    store = ActionStore(tmp_path)
    carried = store.add("Rotate the HMRC secret", "Priya", W47, "a@example.com")
    closed = store.add("Page on the 6h burn", "Sam", W47, "a@example.com")
    store.close(closed.id, W48, "b@example.com")
    later = store.add("Review the backlog", "Lee", W49, "c@example.com")

    assert [i.text for i in store.for_week(W47)] == ["Rotate the HMRC secret", "Page on the 6h burn"]
    in_w48 = store.for_week(W48)
    assert [(i.text, i.is_open) for i in in_w48] == [
        ("Rotate the HMRC secret", True),
        ("Page on the 6h burn", False),
    ]
    assert all(i.carried(W48) for i in in_w48)
    assert [i.id for i in store.for_week(W49)] == [carried.id, later.id]  # the closed one stays in W48
    assert not later.carried(W49) and carried.carried(W49)


def test_edit_close_and_reopen_keep_who_and_when(tmp_path):
    store = ActionStore(tmp_path)
    item = store.add("  Fix   the   alert ", "Sam", W48, "a@example.com")
    assert item.text == "Fix the alert"
    edited = store.edit(item.id, "Fix the paging alert", "Priya", "b@example.com")
    assert (edited.text, edited.owner, edited.edited_by) == ("Fix the paging alert", "Priya", "b@example.com")
    closed = store.close(item.id, W48, "c@example.com")
    assert (closed.closed_week, closed.closed_by) == ("2026-W48", "c@example.com")
    assert store.reopen(item.id, "d@example.com").is_open
    document = json.loads((tmp_path / "actions.json").read_text())
    assert [i["id"] for i in document["items"]] == [item.id]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # written by rename, nothing left


@pytest.mark.parametrize(
    ("text", "owner", "words"), [("", "Sam", "action is empty"), ("x", " ", "owner is empty")]
)
def test_an_empty_item_is_refused(tmp_path, text, owner, words):
    with pytest.raises(ActionError, match=words):
        ActionStore(tmp_path).add(text, owner, W48, "a@example.com")


def test_changing_an_unknown_item_is_refused(tmp_path):
    with pytest.raises(ActionError, match="no action item 'nope'"):
        ActionStore(tmp_path).close("nope", W48, "a@example.com")


def test_people_adding_at_once_lose_nothing(tmp_path):
    store = ActionStore(tmp_path)
    threads = [
        threading.Thread(target=lambda n=n: store.add(f"item {n}", "Sam", W48, f"{n}@example.com"))
        for n in range(12)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(i.text for i in store.items()) == sorted(f"item {n}" for n in range(12))


@pytest.mark.parametrize(
    "content",
    ["not json", json.dumps({"items": "no"}), json.dumps({"items": [{"id": 1}]}),
     json.dumps({"items": [{"id": "a", "text": "t", "owner": "o", "added_week": "week 48",
                            "added_at": "2026-11-23T10:00Z", "added_by": "x"}]})],
)  # fmt: skip
def test_an_unreadable_file_is_an_error_in_words(tmp_path, content):
    (tmp_path / "actions.json").write_text(content)
    with pytest.raises(ActionError, match="actions.json"):
        ActionStore(tmp_path).items()
