"""Who may see Sextant: an allow-list of e-mail addresses, e-mail domains and groups, checked on every page.

Off by default (a laptop, the demo snapshot). With `SEXTANT_ALLOWED_EMAILS` and/or `SEXTANT_ALLOWED_GROUPS`
set, every page's `ui.page_setup` calls `gate`, which stops the page unless `st.user` names an allowed
visitor. The identity comes from one of Streamlit's two mechanisms:

- OIDC: an `[auth]` section in `.streamlit/secrets.toml`; the gate offers Streamlit's own sign-in.
- A trusted reverse proxy (oauth2-proxy style): `server.trustedUserHeaders` maps its headers into `st.user`
  (`X-Forwarded-Email` → `email`, `X-Forwarded-Groups` → `groups`). The proxy must strip copies of those
  headers sent by clients, or anyone could claim any identity.

Every page calls the gate itself: a deep link runs the page file without the entry script.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AccessPolicy:
    emails: tuple[str, ...] = ()  # exact addresses, or "@example.com" for a whole domain
    groups: tuple[str, ...] = ()
    oidc: bool = False  # an [auth] section in secrets: Streamlit can sign visitors in itself

    @property
    def enabled(self) -> bool:
        return bool(self.emails or self.groups)


def parse_list(text: str | None) -> tuple[str, ...]:
    """`"a@x.com, @y.org"` → `("a@x.com", "@y.org")`, lower-cased, blanks dropped."""
    return tuple(item.strip().lower() for item in (text or "").split(",") if item.strip())


def groups_of(claim: Any) -> set[str]:
    """A groups claim as a set: a list (OIDC) or a comma-separated header value (a proxy)."""
    if isinstance(claim, str):
        return set(parse_list(claim))
    if isinstance(claim, Iterable):
        return {str(g).strip().lower() for g in claim if str(g).strip()}
    return set()


def allowed(policy: AccessPolicy, email: str | None, groups: Iterable[str] = ()) -> bool:
    """Whether a visitor may see Sextant: any visitor when the policy is off; else a listed address, an
    address in a listed domain, or a member of a listed group."""
    if not policy.enabled:
        return True
    address = (email or "").strip().lower()
    if address and (
        address in policy.emails
        or any(entry.startswith("@") and address.endswith(entry) for entry in policy.emails)
    ):
        return True
    return bool(groups_of(list(groups)) & set(policy.groups))


def gate(policy: AccessPolicy) -> None:
    """Stop the page (st.stop) unless the visitor is allowed; a no-op when the policy is off."""
    if not policy.enabled:
        return
    import streamlit as st  # here, not at the top: app.config (and the CLI) import this module

    from app.text import plain

    user = st.user.to_dict()
    claim = user.get("email") if user.get("is_logged_in", True) else None
    email = claim if isinstance(claim, str) else None
    if allowed(policy, email, groups_of(user.get("groups"))):
        return
    if not email:
        if policy.oidc:
            st.info("Sign in to see Sextant.", icon=":material/lock:")
            st.button("Sign in", on_click=st.login, icon=":material/login:")
        else:
            st.error(
                "Sextant does not know who you are: open it through the company's sign-in proxy.",
                icon=":material/lock:",
            )
    else:
        st.error(
            f"{plain(email)} may not see Sextant. Ask its owners to add your address or one of your groups "
            "to SEXTANT_ALLOWED_EMAILS or SEXTANT_ALLOWED_GROUPS.",
            icon=":material/block:",
        )
    st.stop()
