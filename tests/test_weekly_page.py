"""The Weekly review page's action items on a week that is not frozen (the last full week, live on the real
stack): added, edited and closed on the page, kept in SEXTANT_REPORTS_DIR, and carried into the next week
until closed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from streamlit.testing.v1 import AppTest

from app.report.actions import ActionStore
from app.report.weeks import last_full_week
from tests.conftest import run_page, texts

pytestmark = pytest.mark.integration
WEEK = last_full_week(datetime.now(UTC))


@pytest.fixture
def reports(live_mode, monkeypatch, tmp_path):
    """Live, with no frozen week and no action item yet."""
    monkeypatch.setenv("SEXTANT_REPORTS_DIR", str(tmp_path))
    for backend in ("PROMETHEUS", "OPENSEARCH", "JAEGER"):
        monkeypatch.setenv(f"SEXTANT_{backend}_TIMEOUT", "120")
    return tmp_path


def button(at: AppTest, label: str, key: str | None = None):
    (found,) = [b for b in at.button if b.label == label and (key is None or b.key == key)]
    return found


def text_input(at: AppTest, label: str, key: str | None = None):
    (found,) = [t for t in at.text_input if t.label == label and t.key == key]
    return found


def test_action_items_are_added_edited_and_closed_on_the_page(reports):
    tmp_path = reports
    at = run_page("pages/3_Weekly_review.py", week=str(WEEK))
    assert "Frozen week" not in texts(at) and "No action item yet." in texts(at)

    text_input(at, "Action").input("Ask HMRC for their status feed")
    text_input(at, "Owner").input("Lee")
    button(at, "Add").click().run()
    assert not at.exception and not at.error
    (item,) = ActionStore(tmp_path).for_week(WEEK)
    assert (item.text, item.owner, item.added_week, item.is_open) == (
        "Ask HMRC for their status feed",
        "Lee",
        str(WEEK),
        True,
    )
    assert "Ask HMRC for their status feed" in texts(at) and "added this week" in texts(at)

    text_input(at, "Owner", f"owner-{item.id}").input("Priya")
    button(at, "Save").click().run()
    (edited,) = ActionStore(tmp_path).for_week(WEEK)
    assert (edited.text, edited.owner) == ("Ask HMRC for their status feed", "Priya")
    assert ActionStore(tmp_path).for_week(WEEK.next()) == [edited]  # open: carried into next week

    button(at, "Close", f"close-{item.id}").click().run()
    (closed,) = ActionStore(tmp_path).for_week(WEEK)
    assert closed.closed_week == str(WEEK) and not closed.is_open
    assert f"closed in {WEEK}" in texts(at)
    assert ActionStore(tmp_path).for_week(WEEK.next()) == []  # closed: not carried any more


def test_an_empty_action_item_is_refused_on_the_page(reports):
    tmp_path = reports
    at = run_page("pages/3_Weekly_review.py", week=str(WEEK))
    text_input(at, "Owner").input("Lee")
    button(at, "Add").click().run()
    assert at.error and ActionStore(tmp_path).for_week(WEEK) == []
