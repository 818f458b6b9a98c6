"""Penetration tests and vulnerability findings, from the `security-findings` index, as they stood then.

A finding is open at `at` unless it was fixed by then (`fixed_at` ≤ `at`) or its risk was accepted; it is
overdue once older than its severity's fix-by delay (`spec.findings.fixWithin` of the controls file). The
table lists overdue findings first (the most overdue first), then the others by severity and age.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from app.controls.definition import SEVERITIES
from app.sources.opensearch import SearchResult

FINDING_COLUMNS = [
    "id",
    "severity",
    "title",
    "service",
    "source",
    "found",
    "age_days",
    "fix_by",
    "overdue_days",
    "status",
]
PENTEST_COLUMNS = ["id", "title", "vendor", "started", "ended"]


@dataclass(frozen=True)
class Findings:
    at: datetime
    open: pd.DataFrame  # FINDING_COLUMNS, overdue first; status "open" or "risk accepted"
    pentests: pd.DataFrame  # PENTEST_COLUMNS, latest first

    @property
    def overdue(self) -> pd.DataFrame:
        return self.open[self.open["overdue_days"] > 0]

    def by_severity(self) -> dict[str, int]:
        """Open findings per severity (risk-accepted ones left out), every severity present."""
        open_now = self.open[self.open["status"] == "open"]
        return {s: int((open_now["severity"] == s).sum()) for s in SEVERITIES}

    @property
    def last_pentest_ended(self) -> datetime | None:
        return None if self.pentests.empty else self.pentests["ended"].iloc[0].to_pydatetime()


def _time(value: object) -> pd.Timestamp | None:
    stamp = pd.to_datetime(value, utc=True, errors="coerce") if isinstance(value, str) else None
    return None if stamp is None or pd.isna(stamp) else stamp


def findings(
    result: SearchResult | None, at: datetime, fix_within: Mapping[str, timedelta]
) -> Findings | None:
    """The findings open at `at` and the penetration tests ended by then; None when the index could not
    be read."""
    if result is None:
        return None
    docs = result.hits.to_dict("records") if not result.hits.empty else []
    now = pd.Timestamp(at)
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    rows, tests = [], []
    for doc in docs:
        if doc.get("kind") == "pentest":
            ended = _time(doc.get("ended_at"))
            if ended is not None and ended <= now:
                tests.append(
                    {
                        **{c: doc.get(c) for c in ("title", "vendor")},
                        "id": doc.get("_id"),
                        "started": _time(doc.get("started_at")),
                        "ended": ended,
                    }
                )
            continue
        found, fixed = _time(doc.get("found_at")), _time(doc.get("fixed_at"))
        severity = doc.get("severity")
        if found is None or found > now or severity not in rank or (fixed is not None and fixed <= now):
            continue
        accepted = doc.get("status") == "risk_accepted"
        fix_by = found + fix_within.get(str(severity), timedelta(days=365 * 100))
        rows.append(
            {
                "id": doc.get("_id"),
                "severity": severity,
                "title": doc.get("title"),
                "service": doc.get("service"),
                "source": doc.get("source"),
                "found": found,
                "age_days": (now - found).total_seconds() / 86400,
                "fix_by": fix_by,
                "overdue_days": 0.0 if accepted else max((now - fix_by).total_seconds() / 86400, 0.0),
                "status": "risk accepted" if accepted else "open",
                "_rank": rank[str(severity)],
            }
        )
    table = pd.DataFrame(rows, columns=[*FINDING_COLUMNS, "_rank"])
    table = table.sort_values(
        ["overdue_days", "_rank", "age_days"], ascending=[False, True, False], ignore_index=True
    ).drop(columns="_rank")
    pentests = pd.DataFrame(tests, columns=PENTEST_COLUMNS).sort_values(
        "ended", ascending=False, ignore_index=True
    )
    return Findings(at, table, pentests)
