"""The access gate as pages draw it: who is looking, the pages they may open, what is recorded.

`gate` runs in every page's `ui.page_setup`, before the page fetches anything: it stops a visitor who is
not let in or may not open the page (saying plainly which roles may), records the denial and every view
of an audited page (`AUDITED_PAGES`), and keeps the visitor in the session for the links the page draws
(`may_open`). `navigation` draws the sidebar's list of the pages the visitor may open (Streamlit's own
list is off: `client.showSidebarNavigation = false`). `download_button` and `reveal` are the two audited
actions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping

import streamlit as st
from streamlit.errors import StreamlitAPIException

from app import auth, links
from app.access import policy
from app.access.log import AccessEvent, AccessLog, Event, Outcome
from app.access.spool import Spool, SpoolFull
from app.auth import Refusal, Viewer
from app.config import Config
from app.sources import Sources
from app.sources.opensearch import OpenSearchClient
from app.text import plain

AUDITED_PAGES = ("logs", "traces", "security", "access_log")  # every view of these is recorded
_VIEWER = "_sextant_viewer"
_VIEWED = "_sextant_viewed"


@st.cache_resource(show_spinner=False)
def _access_log(config: Config, _sources: Sources) -> AccessLog | None:
    """One access log per configuration and process; none for the demo, whose visitors are anonymous and
    whose data is recorded. Live without OpenSearch, events wait in the spool."""
    if config.mode == "snapshot":
        return None
    writer = _sources.opensearch if isinstance(_sources.opensearch, OpenSearchClient) else None
    log = AccessLog(Spool(config.access_spool, config.access_spool_max), writer)
    log.start()
    return log


def access_log(config: Config, sources: Sources) -> AccessLog | None:
    """The access log; none for the demo, and none while `make snapshot` drives the pages (its recording
    clients are the only ones with a `frozen_at`): a recording is not a visitor."""
    if sources.frozen_at is not None:
        return None
    return _access_log(config, sources)


def gate(config: Config, sources: Sources, key: str) -> Viewer:
    """The visitor, let in and allowed to open page `key`; otherwise the page stops here."""
    try:
        rules = policy.rules(config.access_file) if config.access_file is not None else None
    except policy.AccessFileError as exc:
        st.error(f"Sextant's access file cannot be used: {plain(exc)}", icon=":material/settings_alert:")
        st.stop()
        raise
    found = auth.identify(
        st.user.to_dict(), snapshot=config.mode == "snapshot", policy=config.access, rules=rules
    )
    log = access_log(config, sources)
    if isinstance(found, Refusal):
        _refuse(found, config, log, key)
        st.stop()
        raise RuntimeError("unreachable")  # st.stop() returns only outside a Streamlit run
    st.session_state[_VIEWER] = found
    if not found.may_open(key):
        needed = (rules or policy.default_rules()).roles_for(key)
        if log is not None:
            _try_record(log, _event(found, "view", "denied", key, sources, "needs " + " or ".join(needed)))
        navigation(found)
        st.error(
            f"**You may not open {plain(links.page(key).title)}.** It is for the {_either(needed)} "
            f"role{'s' if len(needed) > 1 else ''}; you have {_either(found.roles, 'and')}. Ask Sextant's "
            "owners for a role that includes it (the access file, SEXTANT_ACCESS_FILE).",
            icon=":material/block:",
        )
        st.stop()
    if key in AUDITED_PAGES and log is not None:
        _record_view(log, found, key, sources)
    return found


def viewer() -> Viewer | None:
    """The visitor `gate` let in during this session."""
    found = st.session_state.get(_VIEWER)
    return found if isinstance(found, Viewer) else None


def may_open(key: str, **params: object) -> bool:
    """Whether to draw a link to page `key` with `params`: only when this visitor may follow it."""
    found = viewer()
    return found is not None and found.may_open(key, **params)


def navigation(found: Viewer) -> None:
    """The sidebar's list of the pages this visitor may open, and who they are."""
    with st.sidebar:
        for page in links.PAGES.values():
            if not found.may_open(page.key):
                continue
            try:
                st.page_link(page.file, label=page.title, icon=page.icon)
            except StreamlitAPIException:  # a page file run on its own (AppTest): no page to link to
                st.markdown(f"{page.icon} [{plain(page.title)}]({links.url(page.key)})")
        st.caption(plain(_who(found)))


def _who(found: Viewer) -> str:
    roles = ", ".join(found.roles)
    if found.how == "demo":
        return (
            f"Demo: no sign-in needed. You see every page as the {roles} role does, with personal data "
            "masked; nothing is recorded."
        )
    if found.how == "open":
        return (
            "Access control is off (no SEXTANT_ACCESS_FILE or allow-list): everyone sees every page as "
            f"{roles}; personal data is masked."
        )
    plural = "s" if len(found.roles) > 1 else ""
    return f"Signed in as {found.email or 'a member of your groups'}, with the role{plural} {roles}."


def spool_warning(config: Config, sources: Sources) -> None:
    """A warning when access events pile up (OpenSearch has not taken them) near the spool's limit."""
    log = access_log(config, sources)
    if log is None:
        return
    state = log.state()
    if state.near_full:
        st.warning(
            f"**{state.pending:,} access events are waiting** for OpenSearch ({state.capacity:,} at most): "
            "when the spool is full, audited pages and downloads close until OpenSearch takes them. "
            + (f"Last error: {plain(state.last_error)}" if state.last_error else ""),
            icon=":material/inventory:",
        )


def download_button(
    config: Config,
    sources: Sources,
    page: str,
    label: str,
    make: Callable[[], str],
    file_name: str,
    mime: str,
) -> None:
    """A download, for visitors whose roles allow downloads; the file is made, masked and recorded in the
    access log when it is clicked (a failed record means no file)."""
    found = viewer()
    if found is None or not found.may("download"):
        return
    log = access_log(config, sources)
    if log is not None and log.state().pending >= log.spool.capacity:
        st.caption(
            f"{plain(label)}: closed while the access log's spool is full (every download is recorded)."
        )
        return

    def made() -> str:
        if log is not None:
            log.record(_event(found, "download", "allowed", page, sources, detail=file_name))
        return sources.masker.text(make())

    st.download_button(
        label, made, file_name=file_name, mime=mime, icon=":material/download:", on_click="ignore"
    )


def reveal(config: Config, sources: Sources, page: str, tokens: Mapping[str, str]) -> None:
    """For roles allowed to reveal: one masked value of this view shown on request, each reveal recorded
    (who, which token, where) before the value is drawn; never where nothing is recorded (the demo)."""
    found = viewer()
    log = access_log(config, sources)
    if found is None or not found.may("reveal") or not tokens or log is None:
        return
    with st.expander("Reveal one masked value (recorded in the access log)", icon=":material/visibility:"):
        token = st.selectbox("Masked value", sorted(tokens), index=None, key=f"reveal_{page}")
        if token and st.button("Reveal", key=f"reveal_{page}_button", icon=":material/lock_open:"):
            try:
                log.record(_event(found, "reveal", "allowed", page, sources, token))
            except SpoolFull:
                st.error("The reveal cannot be recorded (the access spool is full), so it is not shown.")
                return
            st.markdown(f"`{plain(token)}` is {plain(tokens[token])}")


def _refuse(found: Refusal, config: Config, log: AccessLog | None, key: str) -> None:
    if found.reason == "unknown":
        if config.access.oidc:
            st.info("Sign in to see Sextant.", icon=":material/lock:")
            st.button("Sign in", on_click=st.login, icon=":material/login:")
        else:
            st.error(
                "Sextant does not know who you are: open it through the company's sign-in proxy.",
                icon=":material/lock:",
            )
        return
    email = plain(found.email or "")
    if log is not None:
        event = AccessEvent(
            "view", "denied", found.email or "unknown", (), key, detail=f"refused: {found.reason}"
        )
        _try_record(log, event)
    if found.reason == "unverified":
        st.error(
            f"Your identity provider has not verified {email}: Sextant lets in verified addresses only.",
            icon=":material/block:",
        )
    elif found.reason == "not_allowed":
        st.error(
            f"{email} may not see Sextant. Ask its owners to add your address or one of your groups to "
            "SEXTANT_ALLOWED_EMAILS or SEXTANT_ALLOWED_GROUPS.",
            icon=":material/block:",
        )
    else:
        st.error(
            f"{email} has no role in Sextant. Ask its owners to give you one in the access file "
            "(SEXTANT_ACCESS_FILE).",
            icon=":material/block:",
        )


def _record_view(log: AccessLog, found: Viewer, key: str, sources: Sources) -> None:
    """One `view` event per page and parameters in a session (reruns of the same view are not new views);
    when it cannot be recorded, the page is not shown."""
    params = _params(sources)
    seen = st.session_state.setdefault(_VIEWED, set())
    if (key, params) in seen:
        return
    try:
        log.record(_event(found, "view", "allowed", key, sources))
    except SpoolFull:
        st.error(
            "This page cannot be shown now: every view of it is recorded, and the access log's spool is "
            "full because OpenSearch has not taken the events. It opens again once OpenSearch is back.",
            icon=":material/inventory:",
        )
        st.stop()
    seen.add((key, params))


def _try_record(log: AccessLog, event: AccessEvent) -> None:
    """Record a denial: the page is refused whether or not it can be recorded."""
    with contextlib.suppress(SpoolFull):
        log.record(event)


def _event(
    found: Viewer, event: Event, outcome: Outcome, key: str, sources: Sources, detail: str = ""
) -> AccessEvent:
    return AccessEvent(event, outcome, found.name, found.roles, key, _params(sources), detail, found.how)


def _params(sources: Sources) -> str:
    """This view's URL parameters, masked, as a person reads them."""
    pairs = [(k, v) for k in st.query_params for v in st.query_params.get_all(k)]
    return sources.masker.text("&".join(f"{k}={v}" for k, v in pairs))


def _either(names: tuple[str, ...], word: str = "or") -> str:
    if not names:
        return "no"
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {word} {names[-1]}"
