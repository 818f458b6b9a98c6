"""The review's summary for Slack: Block Kit posted to an incoming webhook (SEXTANT_SLACK_WEBHOOK_URL).

The summary: the headline numbers with their change, the SLOs that spent most of their budget, how the
figures were taken (frozen, and by whom), and a link to the page. A post that fails is retried (a refused
connection, a timeout, a 5xx or a 429, which says when to try again) and, when every attempt failed,
reported with the reason: never dropped silently. The webhook's address is a secret (its path is the
token): messages name its host only.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.report import review as rv
from app.report.document import status_line
from app.report.frozen import FrozenWeek

ATTEMPTS = 3
BACKOFF_S = (1.0, 3.0)  # the wait before the second and the third attempt
MAX_RETRY_AFTER_S = 30.0
TIMEOUT_S = 10.0
WORST_SHOWN = 3


class SlackError(RuntimeError):
    """The summary did not reach Slack after every attempt; the message says what happened to each."""


def _escape(text: str) -> str:
    """Slack's mrkdwn reads `&`, `<` and `>` as markup (links, mentions): as entities they show as is."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def summary(review: rv.WeeklyReview, frozen: FrozenWeek | None, link: str | None) -> dict[str, Any]:
    """The Block Kit message: a header, the headlines, the worst SLOs, the incidents, the scorecard and
    what got worse on it, where the figures come from, and the link."""
    week = review.week
    fields = []
    for h in review.headlines:
        change = f" ({h.delta_text})" if h.delta_text else ""
        fields.append({"type": "mrkdwn", "text": f"*{_escape(h.label)}*\n{h.display_value}{change}"})
    worst = [s for s in review.slos if s.spent is not None][:WORST_SHOWN]
    worst_lines = [
        f"• {_escape(s.title)} ({_escape(s.definition.domain)}): {rv.spent_text(s.spent)} of the week's "
        f"budget, {s.status.state}"
        for s in worst
    ] or ["• No SLO has figures for the week."]
    incidents = [f"• {_escape(i.title)}: {rv.format_duration(i.duration)}" for i in review.incidents]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f"Weekly review {week}"}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _escape(week.label)}]},
        {"type": "section", "fields": fields[:10]},  # Slack takes at most 10 fields in a section
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "*Most budget spent this week*\n" + "\n".join(worst_lines)},
        },
    ]
    if incidents:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": "*Incidents*\n" + "\n".join(incidents)}}
        )
    if review.scorecard is not None:
        worse = [f"• {_escape(c.text)}" for c in review.scorecard_changes if c.direction == "worse"]
        text = "*Acceptance scorecard*\n" + "\n".join([_escape(review.scorecard.summary), *worse])
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _escape(status_line(review, frozen))}]}
    )
    if link:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Open the review"},
                        "url": link,
                    }
                ],
            }
        )
    headline = ", ".join(f"{h.label} {h.display_value}" for h in review.headlines[:3])
    return {"text": f"Weekly review {week}: {headline}", "blocks": blocks}


@dataclass(frozen=True)
class Delivery:
    attempts: int
    status: int


def host_of(url: str) -> str:
    return urlsplit(url).hostname or "the webhook"


def post(
    url: str,
    payload: dict[str, Any],
    *,
    attempts: int = ATTEMPTS,
    backoff_s: Sequence[float] = BACKOFF_S,
    sleep: Callable[[float], None] = time.sleep,
    transport: httpx.BaseTransport | None = None,
) -> Delivery:
    """Post `payload` to the webhook, retrying what may pass on a second try; SlackError after the last."""
    where = host_of(url)
    failures: list[str] = []
    with httpx.Client(timeout=TIMEOUT_S, transport=transport) as client:
        for attempt in range(1, attempts + 1):
            wait = backoff_s[min(attempt - 1, len(backoff_s) - 1)] if backoff_s else 0.0
            try:
                response = client.post(url, json=payload)
            except httpx.HTTPError as exc:
                failures.append(f"attempt {attempt}: {type(exc).__name__}: {str(exc) or 'no answer'}")
            else:
                if response.status_code == 200:
                    return Delivery(attempt, response.status_code)
                reason = response.text.strip()[:120] or response.reason_phrase
                failures.append(f"attempt {attempt}: HTTP {response.status_code} {reason}")
                if response.status_code != 429 and response.status_code < 500:
                    break  # refused for good (a bad payload, a revoked webhook): another try changes nothing
                wait = _retry_after(response, wait)
            if attempt < attempts:
                sleep(wait)
    raise SlackError(
        f"the summary did not reach Slack ({where}) after {len(failures)} attempt(s): {'; '.join(failures)}"
    )


def _retry_after(response: httpx.Response, default: float) -> float:
    try:
        return min(float(response.headers.get("retry-after", default)), MAX_RETRY_AFTER_S)
    except ValueError:
        return default
