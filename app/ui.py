"""What every page does first, and the few drawing helpers pages share.

Every page script calls `page_setup` itself: with a top-level `pages/` folder a deep link runs the page
file directly, skipping the entry script (see shared notes on Streamlit 1.67), so nothing may rely on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import streamlit as st
from streamlit.errors import StreamlitAPIException

from app import auth
from app.config import Config, ConfigError, current_config
from app.sources import Sources, build_sources
from app.sources.cache import Outcome
from app.sources.errors import BACKEND_TITLES
from app.text import plain
from app.timerange import DEFAULT_PRESET, PRESET_LABELS, REFRESH_CHOICES, TimeRange, time_range
from app.units import format_age

BACKEND_NAMES = BACKEND_TITLES
# How a state looks everywhere: SLO states (healthy … exhausted) and the security checks' (ok … failing).
# Few colours, each with one meaning; an icon too, so the state does not rest on colour alone.
STATE_STYLES: dict[str, tuple[str, str]] = {
    "healthy": ("green", ":material/check_circle:"),
    "ok": ("green", ":material/check_circle:"),
    "at risk": ("orange", ":material/warning:"),
    "attention": ("orange", ":material/warning:"),
    "exhausted": ("red", ":material/error:"),
    "failing": ("red", ":material/error:"),
    "no data": ("gray", ":material/help:"),
}


def state_icon(state: str) -> str:
    return STATE_STYLES[state][1]


def state_badge(state: str) -> None:
    colour, icon = STATE_STYLES[state]
    st.badge(state, icon=icon, color=colour)


@dataclass(frozen=True)
class PageContext:
    sources: Sources
    preset: str
    refresh_s: int | None

    def time_range(self) -> TimeRange:
        """Computed on each call so an auto-refreshing fragment moves with the clock."""
        return time_range(self.preset, self.sources.now())


@st.cache_resource(show_spinner=False)
def _sources(config: Config) -> Sources:
    """One set of clients per configuration and process: they hold connection pools and per-backend stats."""
    return build_sources(config)


def _config_or_stop() -> Config:
    """The configuration; when a setting is wrong, one error naming it and the page stops there.

    Caught here rather than left to Streamlit, which would draw a traceback and write it to the server
    log. `ConfigError` messages name the setting and never hold a password (see `app.config`)."""
    try:
        return current_config()
    except ConfigError as exc:
        st.error(f"Sextant is not configured correctly: {plain(exc)}", icon=":material/settings_alert:")
        st.stop()
        raise  # reached only outside a Streamlit run, where st.stop() returns


def page_setup(title: str, icon: str) -> PageContext:
    """Page config, the shared sidebar (time range and refresh, both kept in the URL) and the mode badge."""
    st.set_page_config(page_title=f"{title} · Sextant", page_icon=icon, layout="wide")
    config = _config_or_stop()
    auth.gate(config.access)  # before anything is drawn or fetched
    sources = _sources(config)
    if sources.snapshot_problem is not None:
        st.error(plain(sources.snapshot_problem), icon=":material/broken_image:")
        st.stop()
    with st.sidebar:
        # No format_func on URL-bound widgets: Streamlit 1.67 matches the URL value against the
        # formatted label, so `?range=7d` would be dropped if "7d" were shown as "Last 7 days".
        preset = st.selectbox(
            "Time range (last …)",
            list(PRESET_LABELS),
            index=list(PRESET_LABELS).index(DEFAULT_PRESET),
            key="range",
            bind="query-params",
            help="How far back the charts and figures look: "
            + ", ".join(f"{k} = {v.lower()}" for k, v in PRESET_LABELS.items()),
        )
        refresh = st.selectbox(
            "Auto-refresh every",
            list(REFRESH_CHOICES),
            key="refresh",
            bind="query-params",
            help="Reloads the page's data on a timer; off by default.",
        )
    st.title(title)
    if sources.mode == "snapshot":
        recorded = sources.snapshot_recorded_at
        st.badge(
            f"Demo snapshot recorded {recorded:%d %b %Y %H:%M} UTC" if recorded else "Demo snapshot",
            icon=":material/photo_camera:",
            color="violet",
            help="No backend is configured, so Sextant shows data recorded from the real stack by "
            "`make snapshot`. Set SEXTANT_PROMETHEUS_URL (and the others) to go live.",
        )
    return PageContext(
        sources=sources, preset=preset or DEFAULT_PRESET, refresh_s=REFRESH_CHOICES[refresh or "off"]
    )


def show_problems(outcomes: Iterable[tuple[str, Outcome]], now: datetime) -> None:
    """One banner per failing backend: its name, its own error message, and the age of what is shown."""
    seen: set[tuple[str, str]] = set()
    for backend, outcome in outcomes:
        if outcome.error is None:
            continue
        name = BACKEND_NAMES.get(backend, backend)
        key = (name, outcome.error.message)
        if key in seen:
            continue
        seen.add(key)
        if outcome.stale and outcome.fetched_at is not None:
            st.warning(
                f"**{name} is not answering**: {plain(outcome.error.message)}. Showing the last good data, "
                f"from {format_age(outcome.fetched_at, now)}.",
                icon=":material/history:",
            )
        else:
            st.error(
                f"**{name} is not answering**: {plain(outcome.error.message)}. Its panels are empty.",
                icon=":material/error:",
            )


def show_warnings(warnings: Iterable[str]) -> None:
    """Partial results (Prometheus warnings, OpenSearch shard failures) are shown, never dropped."""
    for text in dict.fromkeys(warnings):
        st.caption(f":material/warning: {plain(text)}")


def page_link(page: str, label: str, icon: str, query_params: dict[str, str] | None = None) -> None:
    """`st.page_link`; where Streamlit cannot resolve pages (a page file run on its own, as AppTest does),
    a plain Markdown link to the same address, so the page still renders and the link still works."""
    try:
        st.page_link(page, label=plain(label), icon=icon, query_params=query_params)
    except StreamlitAPIException:
        path = "" if "/" not in page else page.removeprefix("pages/").removesuffix(".py").split("_", 1)[-1]
        query = f"?{urlencode(query_params)}" if query_params else ""
        st.markdown(f"{icon} [{plain(label)}](/{path}{query})")
