"""Audit evidence from `audit-*`: each kind of sensitive action counted over a window against the same window
in each of the four weeks before, the anomalies with who and when, and the actions done without the admin
approval they need.

`expected` is the mean count of the same window one to four weeks earlier (the same weekdays and hours, so a
quiet weekend is compared with weekends), over the weeks the audit log fully holds; without one, there is
no baseline. A count is an anomaly when it lies further from `expected` than Poisson noise explains: more
than `expected + 4·√expected + 3` or fewer than `expected − 4·√expected − 3`, so a kind with a handful of
events a week is not flagged for one event more.

Personal data is masked before anything is shown (`mask_personal`), by the app's one masking step
(`app.masking.Masker`, keyed by SEXTANT_MASKING_KEY), so a token here is the token other pages show.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from app import directory, queries
from app.config import load_config
from app.masking import Masker
from app.sources.opensearch import SearchResult

WEEK = timedelta(weeks=1)
WEEKS_BACK = 4
NOISE_SIGMAS = 4.0
NOISE_FLOOR = 3.0
SENSITIVE = ("config.change", "rulepack.edit", "assistant.action", "data.export", "role.change")


def mask_personal(text: object) -> str:
    """`text` with personal data replaced by the masking step's stable tokens (`email:3f9a1c`)."""
    return _masker().text(str(text))


@functools.cache
def _masker() -> Masker:
    return Masker(load_config(os.environ).masking_key)


def weeks_before(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The window [start, end] one to four weeks earlier."""
    return [(start - k * WEEK, end - k * WEEK) for k in range(1, WEEKS_BACK + 1)]


def render_query(start: datetime, end: datetime) -> queries.RenderedQuery:
    """The `audit_evidence` search for the window [start, end] and its four weeks before."""
    weeks = {}
    for k, (s, e) in enumerate(weeks_before(start, end), start=1):
        weeks[f"week{k}_start"], weeks[f"week{k}_end"] = s, e
    return queries.render_query("controls", "audit_evidence", start=start, end=end, **weeks)


@dataclass(frozen=True)
class AuditEvidence:
    start: datetime
    end: datetime
    weeks: int  # how many of the four weeks before the audit log fully holds
    counts: pd.DataFrame  # action, count, expected, verdict, unapproved
    anomalies: pd.DataFrame  # action, verdict, who, events, first, last
    unapproved: pd.DataFrame  # time, action, actor, tenant, source_ip, details (masked), newest first
    needs_approval: tuple[str, ...]

    def count(self, action: str) -> int:
        row = self.counts[self.counts["action"] == action]
        return int(row["count"].iloc[0]) if not row.empty else 0

    def unapproved_count(self, actions: tuple[str, ...]) -> int:
        """Successful actions among `actions` with no approver on record."""
        mine = self.counts[self.counts["action"].isin(actions)]
        return int(mine["unapproved"].fillna(0).sum())


def verdict(count: int, expected: float | None) -> str:
    """'usual', 'unusually many', 'unusually few', or 'no baseline' when no week before is held."""
    if expected is None:
        return "no baseline"
    band = NOISE_SIGMAS * math.sqrt(expected) + NOISE_FLOOR
    if count > expected + band:
        return "unusually many"
    if count < expected - band:
        return "unusually few"
    return "usual"


def audit_evidence(
    result: SearchResult | None,
    start: datetime,
    end: datetime,
    needs_approval: tuple[str, ...],
    kinds: tuple[str, ...] = SENSITIVE,
) -> AuditEvidence | None:
    """The evidence in one `audit_evidence` answer; None when it could not be read.

    Every kind in `kinds` gets a row, with zero events if it had none; other kinds (sign-ins) appear only
    when they are anomalous, such as a burst of failed sign-ins."""
    if result is None:
        return None
    aggs = result.aggregations
    current = {b["key"]: b for b in ((aggs.get("current") or {}).get("action") or {}).get("buckets", [])}
    first_ms = (aggs.get("first") or {}).get("value")
    held = [
        str(k)
        for k, (s, _) in enumerate(weeks_before(start, end), start=1)
        if first_ms is not None and s.timestamp() * 1000 >= first_ms
    ]
    week_buckets = ((aggs.get("weeks") or {}).get("buckets")) or {}
    totals: dict[str, int] = {}
    for k in held:
        for b in ((week_buckets.get(k) or {}).get("action") or {}).get("buckets", []):
            totals[b["key"]] = totals.get(b["key"], 0) + int(b["doc_count"])
    rows, anomalies, unapproved = [], [], []
    for action in dict.fromkeys([*kinds, *current]):
        bucket = current.get(action, {})
        count = int(bucket.get("doc_count", 0))
        expected = totals.get(action, 0) / len(held) if held else None
        said = verdict(count, expected)
        missing, listed = _unapproved(bucket) if action in needs_approval else (0, [])
        unapproved += listed
        if action not in kinds and not said.startswith("unusually"):
            continue
        rows.append(
            {
                "action": action,
                "count": count,
                "expected": expected,
                "verdict": said,
                "unapproved": missing if action in needs_approval else None,
            }
        )
        if said.startswith("unusually"):
            anomalies += _who(action, said, bucket)
    return AuditEvidence(
        start=start,
        end=end,
        weeks=len(held),
        counts=pd.DataFrame(rows, columns=["action", "count", "expected", "verdict", "unapproved"]),
        anomalies=pd.DataFrame(anomalies, columns=["action", "verdict", "who", "events", "first", "last"]),
        unapproved=_events(unapproved),
        needs_approval=needs_approval,
    )


def _who(action: str, said: str, bucket: dict[str, Any]) -> list[dict[str, Any]]:
    """The actors and the source addresses behind the most events of an anomalous kind, with when."""
    out = []
    for kind in ("sources", "actors"):
        for b in (bucket.get(kind) or {}).get("buckets") or []:
            out.append(
                {
                    "action": action,
                    "verdict": said,
                    "who": mask_personal(b["key"]),
                    "events": int(b["doc_count"]),
                    "first": pd.Timestamp(b["first"]["value"], unit="ms", tz="UTC"),
                    "last": pd.Timestamp(b["last"]["value"], unit="ms", tz="UTC"),
                }
            )
    return out


def _unapproved(bucket: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """How many successful events had no approver, and the newest of them (up to 20)."""
    found = bucket.get("unapproved") or {}
    hits = ((found.get("events") or {}).get("hits") or {}).get("hits") or []
    return int(found.get("doc_count", 0)), [dict(h.get("_source") or {}) for h in hits]


def _events(docs: list[dict[str, Any]]) -> pd.DataFrame:
    columns = ["time", "action", "actor", "tenant", "source_ip", "details"]
    frame = pd.DataFrame(
        [
            {
                "time": pd.to_datetime(d.get("@timestamp"), utc=True, errors="coerce"),
                **{c: mask_personal(d.get(c, "")) for c in columns[1:]},
            }
            for d in docs
        ],
        columns=columns,
    )
    return directory.named_column(frame.sort_values("time", ascending=False, ignore_index=True), "tenant")
