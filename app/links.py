"""Every page of Sextant and every link to one: one registry, one address builder.

A link is relative to the page that draws it (`Traces?service=filing`): every page sits at the same
level under the app's base path, so the link works under any `server.baseUrlPath` without knowing it
(Streamlit redirects the bare base path to the one with a trailing slash). A link to paste into a chat is
made absolute by `app.ui.absolute` from the browser's address and the base path. Query strings write a
space as %20, never `+`, which some chat apps turn into a literal plus.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

SHARED_PARAMS = ("range", "refresh", "week")  # the sidebar's, and a frozen week (`app.report`), on every page


@dataclass(frozen=True)
class Page:
    key: str  # how code names the page
    file: str  # the script, relative to the repository
    slug: str  # its address under the app's base path ("" for the entry page)
    title: str
    icon: str
    params: tuple[str, ...] = ()  # the URL parameters it reads, besides SHARED_PARAMS
    dashboard: str | None = None  # a domain dashboard: its variables, declared in queries/, are parameters

    @property
    def url_params(self) -> tuple[str, ...]:
        if self.dashboard is None:
            return (*self.params, *SHARED_PARAMS)
        from app.dashboards.spec import (
            dashboard,  # here: the registry must not read the query files on import
        )

        return (*self.params, *(v.name for v in dashboard(self.dashboard).variables), *SHARED_PARAMS)


PAGES: dict[str, Page] = {
    p.key: p
    for p in (
        Page("overview", "Overview.py", "", "Overview", ":material/dashboard:", ("at",)),
        Page("service_health", "pages/1_Service_health.py", "Service_health", "Service health",
             ":material/monitor_heart:", ()),
        Page("slos", "pages/2_SLOs.py", "SLOs", "SLOs", ":material/target:",
             ("slo", "q", "domain", "team", "state", "label", "page")),
        Page("weekly_review", "pages/3_Weekly_review.py", "Weekly_review", "Weekly review",
             ":material/event_note:"),
        Page("alerts", "pages/13_Alerts.py", "Alerts", "Alerts", ":material/notifications_active:",
             ("severity", "runbook")),
        Page("coverage", "pages/14_Coverage.py", "Coverage", "Observability coverage",
             ":material/visibility:"),
        Page("ingestion", "pages/4_Ingestion.py", "Ingestion", "Ingestion", ":material/move_to_inbox:",
             dashboard="ingestion"),
        Page("extraction", "pages/5_Extraction.py", "Extraction", "Extraction", ":material/document_scanner:",
             dashboard="extraction"),
        Page("tax", "pages/6_Tax.py", "Tax", "Tax", ":material/account_balance:", dashboard="tax"),
        Page("assistant", "pages/7_Assistant.py", "Assistant", "Assistant", ":material/smart_toy:",
             dashboard="assistant"),
        Page("readiness", "pages/8_Readiness.py", "Readiness", "Filing readiness", ":material/fact_check:",
             ("tenant",)),
        Page("security", "pages/9_Security.py", "Security", "Security", ":material/shield:", ("control",)),
        Page("scorecard", "pages/12_Scorecard.py", "Scorecard", "Acceptance scorecard",
             ":material/checklist:"),
        Page("traces", "pages/10_Traces.py", "Traces", "Traces", ":material/timeline:",
             ("service", "operation", "min_duration", "sort", "errors_only", "trace", "start", "end",
              "all_spans")),
        Page("logs", "pages/11_Logs.py", "Logs", "Logs", ":material/receipt_long:",
             ("tab", "service", "level", "tenant", "q", "trace_id", "action")),
        Page("data_sources", "pages/20_Data_sources.py", "Data_sources", "Data sources", ":material/dns:"),
        Page("access_log", "pages/21_Access_log.py", "Access_log", "Access log", ":material/policy:",
             ("user", "event", "outcome")),
    )
}  # fmt: skip


def page(key: str) -> Page:
    """The page called `key`; a KeyError names the pages there are."""
    try:
        return PAGES[key]
    except KeyError:
        raise KeyError(f"no page {key!r}: {', '.join(PAGES)}") from None


def query(params: Mapping[str, object | None]) -> str:
    """`a=1&b=two%20words`: empty values left out, in the order given."""
    kept = {k: str(v) for k, v in params.items() if v not in (None, "")}
    return urlencode(kept, safe=":", quote_via=quote)


def url(key: str, **params: object | None) -> str:
    """The relative address of page `key` with `params` (None or "" left out): `SLOs?slo=hmrc-submissions`.

    A parameter the page does not read is refused, so a link cannot silently lose its filter."""
    target = page(key)
    unknown = set(params) - set(target.url_params)
    if unknown:
        raise ValueError(f"the {target.title} page reads no {', '.join(sorted(unknown))} parameter")
    text = query(params)
    return f"{target.slug or './'}{'?' + text if text else ''}"


def parse(address: str, base_path: str | None = None) -> tuple[str, dict[str, str]] | None:
    """The page key and parameters an address of this app leads to (relative as `url` writes it, or
    absolute under `base_path`), the inverse of `url`; None for an address that is not one of its pages."""
    if address.strip().startswith("#"):
        return None  # a place on the page it is drawn on, not a page
    parts = urlsplit(address.strip())
    path = parts.path
    if parts.netloc:
        prefix = "/" + (base_path or "").strip("/")
        if path.rstrip("/") != prefix.rstrip("/") and not path.startswith(prefix.rstrip("/") + "/"):
            return None
        path = path[len(prefix) :]
    slug = path.strip("/").removeprefix(".").strip("/")  # the entry page: "./", "" or the base path
    page = next((p for p in PAGES.values() if p.slug == slug), None)
    if page is None:
        return None
    params = dict(parse_qsl(parts.query, keep_blank_values=False))
    return page.key, params


def absolute(browser_url: str | None, base_path: str | None, relative: str) -> str:
    """`relative` (from `url`) as an absolute address: the scheme and host the browser shows, the app's
    base path (`server.baseUrlPath`), then the page. Relative still when the browser's address is unknown.

    The browser's path is not used: on the entry page Streamlit reports the base path without its trailing
    slash, against which a relative link would resolve one level too high."""
    here = urlsplit(browser_url or "")
    if not here.netloc:
        return relative
    base = (base_path or "").strip("/")
    return urljoin(urlunsplit((here.scheme, here.netloc, f"/{base}/" if base else "/", "", "")), relative)
