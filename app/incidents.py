"""Incidents (the `incidents` index) as one frame, for every page that lists or shades them.

One policy for an incident without an end: it is ongoing. It is listed as "since …, ongoing", and within
a window it lasts until the window's end (so a chart shades it up to now). Times are parsed leniently
(ISO 8601 with or without fractions of a second or an offset); a document without a usable start is left
out rather than failing the page.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import pandas as pd

COLUMNS = ["name", "title", "start", "end", "services", "ongoing"]


def frame(result: Any) -> pd.DataFrame:
    """A search result's incident documents: name, title, start, end (NaT while ongoing), services (a
    tuple of names) and ongoing, oldest first."""
    hits = getattr(result, "hits", None)
    if hits is None or hits.empty or "start" not in hits.columns:
        return _empty()
    docs = hits.reindex(columns=["name", "title", "start", "end", "services"])
    out = pd.DataFrame(
        {
            "name": docs["name"].fillna("").astype(str),
            "title": docs["title"].fillna(docs["name"]).fillna("incident").astype(str),
            "start": _times(docs["start"]),
            "end": _times(docs["end"]),
            "services": docs["services"].map(_names),
        }
    )
    out["ongoing"] = out["end"].isna()
    out = out.dropna(subset=["start"])
    return out[COLUMNS].sort_values("start", ignore_index=True)


def touching(incidents: pd.DataFrame, services: Iterable[str]) -> pd.DataFrame:
    """The incidents that hit any of `services`."""
    wanted = set(services)
    hit = incidents["services"].map(lambda names: bool(wanted & set(names))).astype(bool)
    return incidents.loc[hit]


def within(incidents: pd.DataFrame, start: datetime, end: datetime) -> pd.DataFrame:
    """The incidents overlapping [start, end], clipped to it (`since` keeps the real start); an ongoing
    one lasts until `end`."""
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    ends = incidents["end"].fillna(hi)
    shown = incidents.loc[(incidents["start"] < hi) & (ends > lo)]
    return shown.assign(
        since=shown["start"], start=shown["start"].clip(lower=lo), end=ends[shown.index].clip(upper=hi)
    ).reset_index(drop=True)


def _times(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True, errors="coerce", format="ISO8601")


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return () if value is None or (isinstance(value, float) and pd.isna(value)) else (str(value),)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": pd.Series([], dtype=object),
            "title": pd.Series([], dtype=object),
            "start": pd.Series([], dtype="datetime64[ns, UTC]"),
            "end": pd.Series([], dtype="datetime64[ns, UTC]"),
            "services": pd.Series([], dtype=object),
            "ongoing": pd.Series([], dtype=bool),
        }
    )
