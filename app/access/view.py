"""What the Access log page shows: Sextant's own access events (`app.access.log`) from OpenSearch.

Every request body comes from `queries/access.yaml`; the user, event and outcome filters are clauses of
it. The user column is shown as it is (staff accounts: who looked is the log's point); everything else is
masked again (`app.masking`: the parameters were masked when written, and masking twice changes nothing).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pandas as pd

from app import directory, links, queries
from app.sources import Sources
from app.sources.cache import FromOneBackend, Outcome, ResultCache, default_cache
from app.sources.concurrent import fetch_keyed
from app.sources.opensearch import SearchResult, buckets_frame
from app.timerange import TimeRange

GROUP = "access"
TTL_S = 15.0
COLUMNS = ("@timestamp", "event", "outcome", "user", "roles", "page", "params", "detail", "how")
EVENTS = ("view", "download", "reveal")
OUTCOMES = ("allowed", "denied")
SHOWN_AS_IS = ("user",)
HOW_WORDS = {"oidc": "signed in (OIDC)", "proxy": "proxy's header", "open": "open (no sign-in)"}
PARAM_WORDS = {"q": "search", "tenant": "client firm", "trace_id": "trace", "errors_only": "errors only"}


@dataclass(frozen=True)
class AccessLogPage(FromOneBackend):
    backend = "opensearch"
    time_range: TimeRange
    events: pd.DataFrame  # COLUMNS, `@timestamp` as `time`, newest first
    counts: pd.DataFrame  # event, outcome, count
    users: list[str]  # seen in the window, for the picker
    total: int | None
    outcomes: dict[str, Outcome[SearchResult]] = field(repr=False)


def request(tr: TimeRange, user: str = "", event: str = "", outcome: str = "") -> tuple[str, dict[str, Any]]:
    """(index, body) of the access events search with a clause per filter that is set."""
    rendered = queries.render_query(GROUP, "access_events", start=tr.start, end=tr.end)
    body = copy.deepcopy(rendered.query)
    for name, value in (("user", user), ("event", event), ("outcome", outcome)):
        if value:
            clause = queries.render_query(GROUP, f"filter_{name}", **{name: value}).query
            body["query"]["bool"]["filter"].append(clause)
    return rendered.target_index, body


def events_table(result: SearchResult | None) -> pd.DataFrame:
    """One row per event: time (UTC), event, outcome, user, roles (joined), the page by its title, what was
    asked (its URL parameters in words), detail, and how the user was identified, in words."""
    hits = result.hits if result is not None else pd.DataFrame()
    frame = pd.DataFrame({c: hits[c] if c in hits.columns else pd.Series([], dtype=object) for c in COLUMNS})
    frame["@timestamp"] = pd.to_datetime(frame["@timestamp"], utc=True, errors="coerce", format="ISO8601")
    frame["roles"] = frame["roles"].map(
        lambda r: ", ".join(r) if isinstance(r, list) else r, na_action="ignore"
    )
    frame["page"] = frame["page"].map(page_title, na_action="ignore")
    frame["params"] = frame["params"].map(asked_words, na_action="ignore")
    frame["how"] = frame["how"].map(lambda h: HOW_WORDS.get(str(h), str(h)), na_action="ignore")
    return frame.rename(columns={"@timestamp": "time"}).reset_index(drop=True)


def page_title(key: str) -> str:
    """A page's title as the sidebar shows it ("Logs"); a key no page has any more, as written."""
    return links.PAGES[key].title if key in links.PAGES else str(key)


def asked_words(params: str) -> str:
    """A view's URL parameters as words: "range: 7d · client firm: Elm Street Accountants", not query text."""
    pairs = parse_qsl(str(params), keep_blank_values=True)
    return " · ".join(f"{PARAM_WORDS.get(k, k.replace('_', ' '))}: {_value_words(k, v)}" for k, v in pairs)


def _value_words(key: str, value: str) -> str:
    return directory.name(key, value) if key in directory.LABELS else value


def counts_table(result: SearchResult | None) -> pd.DataFrame:
    """Events per kind and outcome."""
    if result is None or "event" not in result.aggregations:
        return pd.DataFrame({"event": [], "outcome": [], "count": pd.Series([], dtype="int64")})
    frame = buckets_frame(result.aggregations, "event").rename(columns={"doc_count": "count"})
    if "outcome" not in frame.columns:
        frame["outcome"] = None
    return frame[["event", "outcome", "count"]].astype({"count": "int64"})


def load(
    sources: Sources,
    tr: TimeRange,
    user: str = "",
    event: str = "",
    outcome: str = "",
    cache: ResultCache = default_cache,
) -> AccessLogPage:
    """The newest access events of the window that match the filters, and their counts."""
    index, body = request(tr, user, event, outcome)
    client = sources.opensearch
    asked = (index, tr.preset, user, event, outcome)
    outcomes = fetch_keyed(
        {"events": (asked, lambda: client.search(index=index, body=body))},
        prefix=(sources.cache_key, GROUP),
        ttl_s=TTL_S,
        budget_s=sources.run_budget_s,
        cache=cache,
        window=tr,
    )
    result = outcomes["events"].value
    users = buckets_frame(result.aggregations, "users") if result is not None else pd.DataFrame()
    mask = sources.masker
    return AccessLogPage(
        time_range=tr,
        events=mask.frame(events_table(result), keep=SHOWN_AS_IS),
        counts=mask.frame(counts_table(result)),
        users=sorted(str(u) for u in users["users"]) if "users" in users.columns else [],
        total=result.total if result is not None else None,
        outcomes=outcomes,
    )
