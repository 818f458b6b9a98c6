"""What every page does first, and the few drawing helpers pages share.

Every page script calls `page_setup` itself: with a top-level `pages/` folder a deep link runs the page
file directly, skipping the entry script (see shared notes on Streamlit 1.67), so nothing may rely on it.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, ParamSpec

import pandas as pd
import streamlit as st
from streamlit.errors import StreamlitAPIException

from app import directory, links
from app.auth import Viewer
from app.config import Config, ConfigError, current_config
from app.overview import DeadlineRow, Headline
from app.overview import deadline_table as deadline_frame
from app.report import frozen as frozen_weeks
from app.report.frozen import FrozenWeek, SigningKey
from app.report.weeks import IsoWeek, parse_week
from app.scorecard import view as scorecard_view
from app.sources import Sources, build_sources
from app.sources.cache import Outcome
from app.sources.deadline import page_run
from app.sources.errors import BACKEND_TITLES, NOT_CONFIGURED, SnapshotMiss, failed_backend, plain_reason
from app.text import plain
from app.timerange import DEFAULT_PRESET, PRESET_LABELS, REFRESH_CHOICES, TimeRange, time_range
from app.ui import access
from app.units import format_age

BACKEND_NAMES = BACKEND_TITLES
DRAW_FIRST_S = 2.0  # a page draws what it has after this long; slower answers fill in when they land
P = ParamSpec("P")
# How a state looks everywhere: SLO states (healthy … exhausted), the security checks' (ok … failing), the
# controls' (met … no evidence) and the acceptance criteria's (met, not met, no data).
# Few colours, each with one meaning; an icon too, so the state does not rest on colour alone.
BadgeColour = Literal["green", "orange", "red", "gray"]
STATE_STYLES: dict[str, tuple[BadgeColour, str]] = {
    "healthy": ("green", ":material/check_circle:"),
    "ok": ("green", ":material/check_circle:"),
    "at risk": ("orange", ":material/warning:"),
    "attention": ("orange", ":material/warning:"),
    "exhausted": ("red", ":material/error:"),
    "failing": ("red", ":material/error:"),
    "no data": ("gray", ":material/help:"),
    # security controls (app/controls) and acceptance criteria (app/scorecard)
    "met": ("green", ":material/check_circle:"),
    "stale": ("orange", ":material/update:"),
    "no evidence": ("gray", ":material/help:"),
    "not met": ("red", ":material/error:"),
}


# The same colours as a table cell's text (a badge's colours are the theme's own).
STATE_TEXT_COLOURS: dict[BadgeColour, str] = {
    "green": "#2E7D32",
    "orange": "#B26A00",
    "red": "#C62828",
    "gray": "#6B7280",
}
WRAPPED_ROW_PX = 70  # a table row of three lines: Streamlit wraps cell text only in rows over 4 rem
CELL_LINE_PX = 21  # one line of a cell's text; a row adds 7 px of padding
CELL_CHAR_PX = 6.2  # a character of a cell's text on average (14 px type; measured 5.8 in Chromium)
CELL_PADDING_PX = 16  # a cell's left and right padding together

MISSING = "—"  # a table cell without a figure (never "None"); each such column's tooltip says why
NO_FIGURE = "— : no figure (the backend did not answer, or nothing was reported)"


def state_icon(state: str) -> str:
    return STATE_STYLES[state][1]


def state_css(value: object) -> str:
    """CSS for a table cell that names a state ("✔ healthy", "not met", "at risk (low traffic)"): the state's
    colour of STATE_STYLES, the one vocabulary of every page; empty for any other text."""
    core = str(value).lstrip("✔✓⚠✖?↑↓↕= ").split(" (", 1)[0].strip()
    if core not in STATE_STYLES:
        return ""
    colour = STATE_STYLES[core][0]
    return f"color: {STATE_TEXT_COLOURS[colour]}; font-weight: 600"


def state_badge(state: str) -> None:
    colour, icon = STATE_STYLES[state]
    st.badge(state, icon=icon, color=colour)


def headline_tiles(headlines: Sequence[Headline]) -> None:
    """The headline figures in a row, each with its change and a "Where from?" note, as the overview and the
    weekly review draw them."""
    for column, headline in zip(st.columns(len(headlines)), headlines, strict=True):
        with column:
            st.metric(
                headline.label,
                headline.display_value,
                delta=headline.delta_text,
                delta_color=headline.delta_colour,
                delta_arrow="auto" if headline.delta else "off",
                border=True,
            )
            # "Where from?" in words; the definition file's path only in the button's tooltip.
            source = headline.source
            tip = f"Declared in the repository: {source}" if source else "Where does this number come from?"
            with st.popover("Where from?", icon=":material/info:", help=tip):
                st.markdown(headline.explanation)  # our own Markdown, outside names through `plain`


@dataclass(frozen=True)
class PageContext:
    sources: Sources
    preset: str
    refresh_s: int | None
    key: str = ""  # the page's `app.links` key
    viewer: Viewer | None = None  # who is looking (`app.auth`), let in by the gate
    week: IsoWeek | None = None  # `?week=2026-W48`, when the URL names a week
    frozen: FrozenWeek | None = None  # that week's frozen file: `sources` replay it, read-only
    config: Config | None = None
    backends: Sources | None = None  # the configured sources (live, or the demo), whatever week is shown

    def time_range(self) -> TimeRange:
        """Computed on each call so an auto-refreshing fragment moves with the clock."""
        return time_range(self.preset, self.sources.now())


@st.cache_resource(show_spinner=False)
def _sources(config: Config) -> Sources:
    """One set of clients per configuration and process: they hold connection pools and per-backend stats."""
    return build_sources(config)


_PAGE_KEY = "_sextant_page"
_FILL_IN_MINUTE = "_sextant_fill_in_minute_"  # + the page's key: the minute a fill-in rerun shows
_serving: list[Sources] = []  # what the pages serve from instead, while a tool drives them (app.record)


@contextlib.contextmanager
def pages_serve(sources: Sources) -> Iterator[None]:
    """Every page run inside serves from `sources`: `make snapshot` drives the pages themselves (AppTest)
    through recording clients."""
    _serving.append(sources)
    try:
        yield
    finally:
        _serving.remove(sources)


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


def page_setup(key: str) -> PageContext:
    """Page config (title and icon from `app.links.PAGES`), the access gate (`app.ui.access`: the page
    stops here for a visitor who may not open it), the sidebar (the pages the visitor may open, the time
    range and refresh, both kept in the URL) and the mode badge."""
    this = links.page(key)
    st.session_state[_PAGE_KEY] = key  # for what the page draws later (the demo's nearest views)
    st.set_page_config(page_title=f"{this.title} · Sextant", page_icon=this.icon, layout="wide")
    config = _config_or_stop()
    sources = _serving[-1] if _serving else _sources(config)  # clients only: nothing asked yet
    viewer = access.gate(config, sources, key)  # before anything is drawn or fetched
    if sources.snapshot_problem is not None:
        st.error(plain(sources.snapshot_problem), icon=":material/broken_image:")
        st.stop()
    access.navigation(viewer)
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
    st.title(this.title)
    week, frozen = _week(config, key)
    configured = sources
    if frozen is not None:
        _frozen_banner(frozen)
        sources = frozen.sources()
    elif sources.mode == "snapshot":
        recorded = sources.snapshot_recorded_at
        st.badge(
            f"Demo snapshot recorded {recorded:%d %b %Y %H:%M} UTC" if recorded else "Demo snapshot",
            icon=":material/photo_camera:",
            color="violet",
            help="No backend is configured, so Sextant shows data recorded from the real stack by "
            "`make snapshot`. Set SEXTANT_PROMETHEUS_URL (and the others) to go live.",
        )
    if key in access.AUDITED_PAGES:
        access.spool_warning(config, sources)
    return PageContext(
        sources=sources,
        preset=preset or DEFAULT_PRESET,
        refresh_s=REFRESH_CHOICES[refresh or "off"],
        key=key,
        viewer=viewer,
        week=week,
        frozen=frozen,
        config=config,
        backends=configured,
    )


@st.cache_resource(show_spinner=False, max_entries=16)
def _frozen_file(
    path: Path, stamp: tuple[int, int], key_ids: tuple[str, ...], _keys: tuple[SigningKey, ...]
) -> FrozenWeek:
    """A frozen week read and checked once per file version (`stamp`: its modification time and size) and
    set of accepted keys (named by their fingerprints: the keys themselves are not hashed)."""
    return frozen_weeks.read(path, _keys)


def _week(config: Config, key: str) -> tuple[IsoWeek | None, FrozenWeek | None]:
    """The week the URL names (`?week=2026-W48`) and its frozen file, if there is one. A file that cannot be
    trusted stops the page: its figures may have been changed since the week was frozen."""
    text = st.query_params.get("week")
    if not text:
        return None, None
    try:
        week = parse_week(text)
    except ValueError as exc:
        st.warning(f"Showing live figures: {plain(exc)}", icon=":material/event_busy:")
        return None, None
    path = frozen_weeks.week_path(frozen_weeks.weeks_dir(config), week)
    try:
        stat = path.stat()
    except FileNotFoundError:
        if key != "weekly_review":  # the review computes a week that is not frozen from live data
            st.info(f"{week} is not frozen: this page shows live figures.", icon=":material/event:")
        return week, None
    try:
        keys = frozen_weeks.accepted_keys(config)
        stamp = (stat.st_mtime_ns, stat.st_size)
        return week, _frozen_file(path, stamp, tuple(k.id for k in keys), keys)
    except frozen_weeks.FrozenWeekError as exc:
        st.error(f"The frozen week {week} is refused: {plain(exc.reason)}.", icon=":material/gpp_bad:")
        st.stop()
        raise  # reached only outside a Streamlit run, where st.stop() returns


def _frozen_banner(frozen: FrozenWeek) -> None:
    st.info(
        f"**Frozen week {frozen.week}** ({plain(frozen.week.label)}): figures as recorded at its end, "
        f"{frozen.at:%a %d %b %Y %H:%M} UTC, frozen on {frozen.frozen_at:%d %b %Y %H:%M} UTC by "
        f"{plain(frozen.frozen_by)}. Read-only. {frozen.signature_note}",
        icon=":material/lock:",
    )


def live(ctx: PageContext) -> Callable[[Callable[P, None]], Callable[P, None]]:
    """The fragment that loads and draws a page's body, re-run on the sidebar's refresh.

    Its run is one page run (`app.sources.deadline`): every query it makes, in whatever thread or nested
    loader, shares one deadline, the slowest backend's timeout plus a little. It draws first: fetches not
    answered after DRAW_FIRST_S are drawn as "still loading" (with their last good data, if any) while
    they go on in the background; once they land, the fragment runs again and draws them from the cache.
    """

    def decorate(body: Callable[P, None]) -> Callable[P, None]:
        @functools.wraps(body)
        def run(*args: P.args, **kwargs: P.kwargs) -> None:
            # A tool driving the pages (app.record) waits for every panel: nothing drawn "still loading".
            draw_first = None if _serving else DRAW_FIRST_S
            # Drawn again to fill in: the same minute as the run it completes, or the rerun would ask
            # every question again for a window a minute on and wait again.
            carried = f"{_FILL_IN_MINUTE}{ctx.key}"
            minute = st.session_state.pop(carried, None)
            with page_run(ctx.sources.run_budget_s, draw_first_s=draw_first, minute=minute) as page:
                body(*args, **kwargs)
                landed = page.wait_for_left_running()
            if landed:
                st.session_state[carried] = page.minute
                _draw_again()

        return st.fragment(run, run_every=ctx.refresh_s)

    return decorate


def _draw_again() -> None:
    """Re-run the fragment; during a full-page run Streamlit allows only a full re-run (cheap here: what
    the page fetched is in the cache)."""
    try:
        st.rerun(scope="fragment")
    except StreamlitAPIException:
        st.rerun()


def show_problems(outcomes: Iterable[tuple[str, Outcome]], now: datetime) -> None:
    """One banner per failing backend: its name, its own error message, and what its panels show instead:
    the last good data with its age (and the window it covers, when that has moved on since), or nothing.
    A backend that is only slow gets a note that its panels fill in; one without a URL, that it is not
    configured and the setting that would show its panels (`failed_backend`: the wording of every banner and
    note). `now` is the time the page shows."""
    failed: dict[str, list[Outcome]] = {}
    misses: list[SnapshotMiss] = []
    for backend, outcome in outcomes:
        if isinstance(outcome.error, SnapshotMiss):
            misses.append(outcome.error)
        elif outcome.error is not None:
            failed.setdefault(backend, []).append(outcome)
    if misses:
        _not_recorded(misses)
    for backend, backend_outcomes in failed.items():
        name = BACKEND_NAMES.get(backend, backend)
        kept = [o for o in backend_outcomes if o.stale and o.fetched_at is not None]
        meanwhile = _last_good(kept, now)
        errors = [o.error for o in backend_outcomes if not o.loading and o.error is not None]
        if not errors:
            st.info(
                f"**{name} is slow to answer**: its panels fill in as soon as it does.{meanwhile}",
                icon=":material/hourglass_top:",
            )
            continue
        said = (
            f"**{name} was not asked**: the page ran out of time on slower answers."
            if all(e.error_type == "deadline" for e in errors)  # it may be well: do not blame it
            else f"**{failed_backend(errors[0])}**: {plain(plain_reason(errors[0]))}."
        )
        if errors[0].error_type == NOT_CONFIGURED:  # its reason says how to show these panels
            st.error(said, icon=":material/settings:")
        elif not kept:
            st.error(f"{said} Its panels are empty.", icon=":material/error:")
        else:
            empty = " Some of its panels are empty." if len(kept) < len(backend_outcomes) else ""
            st.warning(f"{said}{meanwhile}{empty}", icon=":material/history:")
        details(e.message for e in errors if e.message != plain_reason(e))


def details(raw_errors: Iterable[str]) -> None:
    """Under a banner, the errors as they were raised, where the banner's plain words leave something out
    (the address asked, the transport's own error): as text, never Markdown, for whoever fixes it."""
    raw = list(dict.fromkeys(raw_errors))
    if raw:
        with st.expander("Details"):
            st.code("\n".join(raw), language=None, wrap_lines=True)  # whole at 1440 px


def _not_recorded(misses: list[SnapshotMiss]) -> None:
    """The demo's answer to a view it did not record: information, never a backend blamed, and the
    recorded views nearest to it (this page without its filters, at the same range, and its default)."""
    st.info(
        "This view is not in the demo snapshot, which holds every view Sextant's own links and pickers "
        "lead to (text typed into a search is not among them). The recorded views nearest to it:",
        icon=":material/photo_camera:",
    )
    key = st.session_state.get(_PAGE_KEY)
    if key is not None:
        picked = links.query({k: v for k, v in st.query_params.items() if k not in links.SHARED_PARAMS})
        shown_range = st.query_params.get("range")
        if picked and shown_range:
            page_link(key, "This page without its filters", ":material/filter_alt_off:", range=shown_range)
        page_link(key, "This page as it opens", ":material/home:")
    with st.expander("What was not recorded"):
        st.code("\n".join(dict.fromkeys(m.detail or m.message for m in misses)), language=None)


def _last_good(kept: list[Outcome], now: datetime) -> str:
    """ " Showing the last good data, for the window ending 14:02 UTC, fetched 3 min ago." (the oldest)"""
    if not kept:
        return ""
    oldest = min(o.fetched_at for o in kept if o.fetched_at is not None)
    ends = [o.window_end for o in kept if o.window_end is not None]
    window = ""
    if ends:
        end = min(ends)
        shown = f"{end:%H:%M}" if end.date() == now.date() else f"{end:%d %b %H:%M}"
        window = f" for the window ending {shown} UTC,"
    return f" Showing the last good data,{window} fetched {format_age(oldest, datetime.now(UTC))}."


def show_warnings(warnings: Iterable[str]) -> None:
    """Partial results (Prometheus warnings, OpenSearch shard failures) are shown, never dropped."""
    for text in dict.fromkeys(warnings):
        st.caption(f":material/warning: {plain(text)}")


def may_open(key: str, **params: object | None) -> bool:
    """Whether this visitor may follow a link to page `key` with `params` (their roles allow the page and
    what it would show): a link they may not follow is not drawn at all."""
    return access.may_open(key, **{k: v for k, v in params.items() if v not in (None, "")})


def page_link(key: str, label: str, icon: str, **params: object | None) -> None:
    """A link to page `key` (`st.page_link`), drawn only when the visitor may follow it; where Streamlit
    cannot resolve pages (a page file run on its own, as AppTest does), a Markdown link to the same
    relative address, so the page still renders."""
    target = links.page(key)
    address = links.url(key, **params)  # also refuses a parameter the page does not read
    if not may_open(key, **params):
        return
    kept = {k: str(v) for k, v in params.items() if v not in (None, "")}
    try:
        st.page_link(target.file, label=plain(label), icon=icon, query_params=kept or None)
    except StreamlitAPIException:
        st.markdown(f"{icon} [{plain(label)}]({address})")


def visitor() -> str | None:
    """The signed-in visitor's e-mail address, when Sextant knows who is looking (OIDC or a proxy)."""
    user = st.user.to_dict()
    email = user.get("email") if user.get("is_logged_in", True) else None
    return email if isinstance(email, str) and email else None


def absolute(relative: str) -> str:
    """An address of this app (`links.url`) made absolute, to paste into a chat (`links.absolute`)."""
    return links.absolute(st.context.url, st.get_option("server.baseUrlPath"), relative)


def download_button(ctx: PageContext, label: str, make: Callable[[], str], file_name: str, mime: str) -> None:
    """A download for visitors allowed to download: made, masked and recorded when clicked."""
    if ctx.config is not None:
        access.download_button(ctx.config, ctx.sources, ctx.key, label, make, file_name, mime)


def reveal(ctx: PageContext, tokens: Mapping[str, str]) -> None:
    """For roles allowed to reveal: one masked value of this view, on request, recorded first."""
    if ctx.config is not None:
        access.reveal(ctx.config, ctx.sources, ctx.key, tokens)


def url_picker(label: str, options: list[str], key: str, placeholder: str) -> str:
    """A picker bound to the URL; empty means any. A value typed or linked that the window has not seen
    is kept (a link must not lose its filter because the range changed)."""
    value = st.selectbox(
        label,
        options,
        index=None,
        key=key,
        bind="query-params",
        accept_new_options=True,
        placeholder=placeholder,
    )
    return (value or "").strip()


NAMED_PICKERS = "_named_url_pickers"  # session key: URL parameter -> {name shown: value}, for app.crawl


def named_url_picker(label: str, options: Mapping[str, str], param: str, *, help: str | None = None) -> str:
    """A select box that shows display names (`options`: value -> name; the first value is the default)
    and is bound by hand to the URL parameter `param` by value. Streamlit's own binding with a format_func
    would match the URL against the name shown (../shared/notes), so `?slo=hmrc-submissions` would be lost.
    The default is no parameter at all; a value in the URL that is not on offer shows the default."""
    values = list(options)
    default = values[0]
    asked = st.query_params.get(param, default)
    if st.session_state.get(param) != (shown := asked if asked in options else default):
        st.session_state[param] = shown  # the URL leads (a link followed, the back button)
    st.session_state.setdefault(NAMED_PICKERS, {})[param] = {name: value for value, name in options.items()}

    def to_url() -> None:
        value = st.session_state[param]
        if value == default:
            st.query_params.pop(param, None)
        else:
            st.query_params[param] = value

    return st.selectbox(
        label, values, key=param, format_func=options.__getitem__, on_change=to_url, help=help
    )


def named_url_multiselect(
    label: str, options: Mapping[str, str], param: str, *, help: str | None = None
) -> list[str]:
    """A multiselect that shows display names (`options`: value -> name) and is bound by hand to the URL
    parameter `param`, repeated once per value picked (`?domain=filing&domain=assistant`, as Streamlit's
    own binding writes it): with a format_func, Streamlit's binding would match the URL against the names.
    Values in the URL that are not on offer are left out."""
    asked = [v for v in dict.fromkeys(st.query_params.get_all(param)) if v in options]
    if st.session_state.get(param) != asked:
        st.session_state[param] = asked  # the URL leads (a link followed, the back button)
    # For app.crawl, as a picker's: the first entry stands for nothing picked (no parameter at all).
    named = {"": ""} | {name: value for value, name in options.items()}
    st.session_state.setdefault(NAMED_PICKERS, {})[param] = named

    def to_url() -> None:
        picked = list(st.session_state[param])
        if picked:
            st.query_params[param] = picked
        else:
            st.query_params.pop(param, None)

    return st.multiselect(
        label, list(options), key=param, format_func=options.__getitem__, on_change=to_url, help=help
    )


def firm_picker(tenants: Iterable[str], every: str = "All client firms") -> str:
    """A client-firm picker bound to `?tenant=`: firms by name (`app.directory`), their ids in the URL; empty
    means every firm. A firm the URL names that the data has not seen is kept on offer, so that a shared link
    never silently falls back to every firm."""
    asked = st.query_params.get("tenant")
    offered = directory.choices("tenant", [*tenants, *([asked] if asked else [])])
    return named_url_picker("Client firm", {"": every} | offered, "tenant")


def deadline_table(deadlines: list[DeadlineRow]) -> None:
    """The filing deadlines with entities due and ready, as the overview and the weekly review draw them."""
    frame = deadline_frame(deadlines)
    static_table(
        pd.DataFrame(
            {
                "deadline": frame["deadline"],
                "due": [f"{due:%a %d %b %Y}" for due in frame["due"]],
                "days_left": [f"{days:d}" for days in frame["days_left"]],
                "entities_due": [_count(n) for n in frame["entities_due"]],
                "entities_ready": [_count(n) for n in frame["entities_ready"]],
                "ready_share": [None if pd.isna(r) else f"{r:.0%}" for r in frame["ready_share"]],
            }
        ),
        {
            "deadline": "Deadline",
            "due": "Due",
            "days_left": "Days left",
            "entities_due": "Entities due",
            "entities_ready": "Ready to file",
            "ready_share": "Ready",
        },
    )
    st.caption(
        f"Entities are counted for the next deadline of each kind of return; {MISSING} marks a count not "
        "known (a later deadline has none yet, or Prometheus did not answer)."
    )


def _count(value: object) -> str | None:
    return None if value is None or pd.isna(value) else f"{int(value):,}"  # type: ignore[call-overload]


def static_table(
    frame: pd.DataFrame,
    titles: Mapping[str, str],
    *,
    links: Mapping[str, str] | None = None,
    states: Sequence[str] = (),
) -> None:
    """A short table drawn whole, as plain text in a static table (`st.table`), not the interactive grid.

    For the tables of a page's first screen: every row shown, each column as wide as its text, and no grid
    code to load. Streamlit loads the grid's code (half a megabyte) lazily, and React reveals lazily loaded
    elements together: once one shows its placeholder, the rest wait until every one has its code or half
    a second has passed. On the overview the tiles' links waited for the tables' grid (issue 9).

    `frame` holds the cells' text (its columns are `titles`' keys); a cell without a value reads `MISSING`.
    Its cells are Markdown, so each goes through `plain`; `links`: column → the column of the relative
    URLs its cells open. `states`: columns whose cells name a state, coloured as everywhere (`state_css`)."""
    links = links or {}

    def cell(value: object, url: object) -> str:
        text = MISSING if value is None or pd.isna(value) else plain(value)
        return f"[{text}]({url})" if isinstance(url, str) and url else text

    shown = pd.DataFrame(
        {
            title: [
                cell(value, frame[links[column]].iloc[row] if column in links else None)
                for row, value in enumerate(frame[column])
            ]
            for column, title in titles.items()
        }
    )
    if not states:
        st.table(shown, hide_index=True)
        return
    colours = pd.DataFrame(  # from the cells' own text: `plain` may have escaped their parentheses
        {titles[c]: [state_css(v) if c in states else "" for v in frame[c]] for c in titles},
        index=shown.index,
    )
    st.table(shown.style.apply(lambda _: colours, axis=None), hide_index=True)


def table(
    frame: pd.DataFrame,
    columns: Mapping[str, Any],
    *,
    empty: str,
    states: Sequence[str] = (),
    wrap: bool = False,
    **options: Any,
) -> Any:
    """A table with its columns' titles and formats, or, when it has no row, the sentence `empty` saying why
    (a table without rows says nothing). `empty` is our own text: outside text goes through `plain` first.

    `states`: columns whose cells name a state, coloured as everywhere (`state_css`). `wrap`: rows three
    lines tall, so that long text wraps within its column's width instead of being cut, and every row shown
    (no inner scroll). Returns what `st.dataframe` returns (the selection, when `on_select` is given)."""
    if frame.empty:
        st.caption(empty)
        return None
    data: Any = frame.style.map(state_css, subset=list(states)) if states else frame
    if wrap:
        options = {"row_height": WRAPPED_ROW_PX, "height": "content", **options}
    return st.dataframe(data, hide_index=True, column_config=dict(columns), **options)


def wrapped_row_px(texts: Iterable[str], width_px: int) -> int:
    """A row height (for `table(..., wrap=True, row_height=…)`) that shows the longest of `texts` whole in
    a column `width_px` wide: three lines at least. A wrapped line leaves part of a word's width unused,
    so a line is counted two characters short."""
    per_line = max(1, int((width_px - CELL_PADDING_PX) / CELL_CHAR_PX) - 2)
    lines = max((math.ceil(len(text) / per_line) for text in texts), default=1)
    return max(WRAPPED_ROW_PX, 7 + CELL_LINE_PX * lines)


def scorecard_changes(moved: list[scorecard_view.Change], gaps: str | None) -> None:
    """What moved on the acceptance scorecard (`scorecard_view.changes`) and what could not be judged
    (`comparison_gaps`), as the Scorecard page and the weekly review draw it: "No criterion moved." only
    when there is no gap."""
    if moved:
        st.markdown("\n".join(f"- {plain(change.text)}" for change in moved))
    if gaps:
        st.caption(plain(gaps))  # criteria titles come from a definition file
    elif not moved:
        st.write("No criterion moved.")
