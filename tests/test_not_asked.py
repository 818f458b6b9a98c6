"""A backend the page never asked, having run out of time on another's answers, is not said to be failing."""

from streamlit.testing.v1 import AppTest

from app.dashboards import draw
from app.sources.errors import BackendUnavailable, StillLoading

NOT_ASKED = BackendUnavailable("opensearch", "not asked: the page ran out of time", error_type="deadline")


def _banner_script():
    from datetime import UTC, datetime

    from app import ui
    from app.sources.cache import Outcome
    from app.sources.errors import BackendUnavailable

    not_asked = BackendUnavailable("opensearch", "not asked: the page ran out of time", error_type="deadline")
    refused = BackendUnavailable("prometheus", "connection refused", error_type="connection")
    now = datetime(2026, 11, 28, 14, 5, tzinfo=UTC)
    ui.show_problems([("opensearch", Outcome(None, not_asked)), ("prometheus", Outcome(None, refused))], now)


def test_the_banner_says_not_asked_instead_of_not_answering():
    at = AppTest.from_function(_banner_script).run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "**OpenSearch was not asked**: the page ran out of time on slower answers. Its panels are empty.",
        "**Prometheus is not answering**: connection refused. Its panels are empty.",
    ]


def test_the_incidents_note_blames_opensearch_only_when_it_failed():
    assert draw._why_no_incidents(NOT_ASKED) == "OpenSearch was not asked, the page ran out of time"
    assert draw._why_no_incidents(StillLoading()) == "OpenSearch has not answered yet"
    refused = BackendUnavailable("opensearch", "connection refused", error_type="connection")
    assert draw._why_no_incidents(refused) == "OpenSearch is not answering (connection refused)"
