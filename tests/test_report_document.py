"""The HTML report and the Slack summary of a review made by hand, and the summary's delivery to a local
HTTP receiver (never a real service): what arrives, retries, and failures reported."""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.report import document, slack
from app.report.review import WeeklyReview
from tests.report_support import HOSTILE, WEEK, action, synthetic_review

GENERATED = datetime(2026, 11, 30, 6, 15, tzinfo=UTC)
LINK = "https://sextant.example/Weekly_review?week=2026-W48"


@pytest.fixture(scope="module")
def review() -> WeeklyReview:
    return synthetic_review()


def test_the_report_holds_every_section_and_figure(review):
    items = [
        action("Rotate the HMRC secret", "2026-W47"),
        action("Add a 6h page", "2026-W48", closed="2026-W48"),
    ]
    html = document.render(review, items, frozen=None, generated_at=GENERATED, link=LINK)
    headings = re.findall(r"<h2>(.*?)</h2>", html)
    assert headings == [
        "Headlines",
        "SLO compliance and error budget this week",
        "Incidents and alerts",
        "Filing readiness: what moved",
        "Deadlines in the next 4 weeks",
        "Security posture",
        "Acceptance scorecard",
        "Action items",
    ]
    text = re.sub(r"<[^>]+>", " ", html)
    for figure in ("330%", "150%", "80%", "20%", "72.5", "−7.5 points".replace("−", "-")):
        assert figure in text, figure
    assert "HMRC API outage" in text and "4 h 0 min" in text and "page-1h-5m" in text
    assert "VAT return (period ended 31 Oct)" in text and "1,000" in text and "889" in text
    assert "carried from 2026-W47" in text and "closed in 2026-W48" in text
    assert "198.51.100.66: 1,200 failed sign-ins" in text
    assert "Ingestion" in text and "no data" in text  # the SLO not fetched is "no data", never 0%
    assert "Week in progress" not in text and "Not frozen" in text
    assert "CI · Median CI run: 13 min → 24 min (met → not met)." in text
    assert "1 of 2 criteria have no figure now or a window earlier" in text
    assert "No criterion moved" not in text


def test_each_section_starts_a_printed_page_and_nothing_can_be_fetched(review):
    html = document.render(review, [], frozen=None, generated_at=GENERATED)
    assert html.count("<section") == 8 and html.count("<section class=first>") == 1
    assert "section { break-before: page;" in html
    assert f'content="{document.CSP}"' in html and "default-src 'none'" in document.CSP
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert not re.search(r'(src|href)="(?!data:)', html)
    assert html.count("<svg") == 2  # budget bars and the week's timeline (no readiness here)


def test_outside_text_is_escaped(review):
    hostile = synthetic_review(incident_title=HOSTILE)
    html = document.render(
        hostile, [action(HOSTILE, "2026-W48", owner=HOSTILE)], frozen=None, generated_at=GENERATED
    )
    assert "<script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html


# -- Slack ---------------------------------------------------------------------------------------------------


def test_the_summary_holds_the_headlines_the_worst_slos_and_the_link(review):
    payload = slack.summary(review, None, LINK)
    blocks = payload["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "Weekly review 2026-W48"}}
    fields = [f["text"] for f in blocks[2]["fields"]]
    assert fields[0] == "*Filing readiness*\n72.5 (-7.5 points)"
    assert "*Budget spent, worst SLO*\n330% (+260 points)" in fields  # against extraction accuracy's 70%
    worst = blocks[3]["text"]["text"]
    assert worst.splitlines()[1:] == [
        "• HMRC submissions (filing): 330% of the week's budget, healthy",
        "• Filing API availability (filing): 150% of the week's budget, healthy",
        "• Extraction accuracy (extraction): 80% of the week's budget, healthy",
    ]
    assert "HMRC API outage: 4 h 0 min" in blocks[4]["text"]["text"]
    assert blocks[5]["text"]["text"].splitlines() == [
        "*Acceptance scorecard*",
        "0 of 2 criteria met; 1 not met, 1 no data.",
        "• CI · Median CI run: 13 min → 24 min (met → not met).",
    ]
    assert blocks[-1]["elements"][0]["url"] == LINK
    assert payload["text"].startswith("Weekly review 2026-W48: Filing readiness 72.5")


def test_slack_markup_in_outside_text_is_neutralised():
    payload = slack.summary(synthetic_review(incident_title="<!channel> & <https://x|click>"), None, None)
    text = json.dumps(payload)
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp; &lt;https://x|click&gt;" in text
    assert payload["blocks"][-1]["type"] != "actions"  # no link without an address


class Receiver:
    """A local webhook: answers each POST with the next of `statuses` (then 200) and keeps the bodies."""

    def __init__(self, statuses: list[int] | None = None, retry_after: str | None = None) -> None:
        self.statuses = list(statuses or [])
        self.bodies: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                outer.bodies.append(json.loads(self.rfile.read(length)))
                status = outer.statuses.pop(0) if outer.statuses else 200
                body = b"ok" if status == 200 else b"rollup_error" if status >= 500 else b"invalid_payload"
                self.send_response(status)
                if retry_after is not None and status == 429:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/secret-token"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory():
    made = []

    def make(*args, **kwargs) -> Receiver:
        made.append(Receiver(*args, **kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_the_payload_arrives_at_the_receiver_as_built(review, receiver_factory):
    receiver = receiver_factory()
    payload = slack.summary(review, None, LINK)
    delivery = slack.post(receiver.url, payload, sleep=lambda s: None)
    assert (delivery.attempts, delivery.status) == (1, 200)
    assert receiver.bodies == [payload]


def test_a_failed_post_is_retried_and_then_delivered(review, receiver_factory):
    receiver = receiver_factory([500, 429], retry_after="2")
    waits: list[float] = []
    delivery = slack.post(receiver.url, slack.summary(review, None, LINK), sleep=waits.append)
    assert delivery.attempts == 3 and len(receiver.bodies) == 3
    assert waits == [1.0, 2.0]  # the backoff, then what the 429 asked for


def test_a_post_that_keeps_failing_is_reported_with_each_attempt_and_never_the_secret(
    review, receiver_factory
):
    receiver = receiver_factory([500, 500, 503])
    with pytest.raises(slack.SlackError) as caught:
        slack.post(receiver.url, slack.summary(review, None, None), sleep=lambda s: None)
    message = str(caught.value)
    assert "after 3 attempt(s)" in message and "attempt 3: HTTP 503 rollup_error" in message
    assert "secret-token" not in message and "127.0.0.1" in message


def test_a_refused_payload_is_not_retried(review, receiver_factory):
    receiver = receiver_factory([400])
    with pytest.raises(slack.SlackError, match="after 1 attempt"):
        slack.post(receiver.url, slack.summary(review, None, None), sleep=lambda s: None)
    assert len(receiver.bodies) == 1


def test_nobody_listening_is_retried_then_reported(review):
    with pytest.raises(slack.SlackError, match="ConnectError"):
        slack.post("http://127.0.0.1:9/hook", slack.summary(review, None, None), sleep=lambda s: None)


def test_week_and_status_line_of_a_week_in_progress(review):
    from dataclasses import replace

    partial = replace(review, at=WEEK.end.replace(day=27))
    assert document.status_line(partial, None) == "Week in progress: figures up to Fri 27 Nov 2026 00:00 UTC."
