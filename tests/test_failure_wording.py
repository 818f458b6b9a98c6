"""What a page says of a backend that failed is what is known: a backend the page never asked (it ran out of
time on another's answers) is not said to be failing, and old incidents are said to be old."""

from datetime import UTC, datetime, timedelta

from streamlit.testing.v1 import AppTest

from app.dashboards import draw
from app.sources.cache import Outcome
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


def test_the_incidents_note_blames_opensearch_only_when_it_failed_and_says_when_they_are_old():
    now = datetime(2026, 11, 28, 14, 5, tzinfo=UTC)
    note = draw.incidents_problem
    assert note(Outcome(None, NOT_ASKED), now) == (
        ":material/warning: Incidents are not marked on the charts: OpenSearch was not asked, the page ran "
        "out of time."
    )
    assert note(Outcome(None, StillLoading()), now).endswith(
        "not marked on the charts: OpenSearch has not answered yet."
    )
    refused = BackendUnavailable("opensearch", "connection refused", error_type="connection")
    kept = Outcome("hits", refused, now - timedelta(minutes=3), stale=True)
    assert note(kept, now) == (
        ":material/history: The incidents on the charts are the last good data, from 3 min ago: "
        "OpenSearch is not answering (connection refused)."
    )
    assert note(Outcome("hits"), now) is None and note(None, now) is None
