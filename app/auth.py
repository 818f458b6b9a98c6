"""Who is looking, and with which roles: every page's `ui.page_setup` asks `identify` before it fetches.

The identity comes from one of Streamlit's two mechanisms, both through `st.user`:

- OIDC: an `[auth]` section in `.streamlit/secrets.toml`; Streamlit signs visitors in itself. An identity
  whose provider says `email_verified: false` is refused: anyone can claim an unverified address.
- A trusted sign-in proxy (oauth2-proxy style): `server.trustedUserHeaders` maps its headers into
  `st.user` (`X-Forwarded-Email` → `email`, `X-Forwarded-Groups` → `groups`). The proxy must strip copies
  of those headers sent by clients, or anyone could claim any identity.

Who is let in, and with which roles:

- the demo (the snapshot, nothing configured): no sign-in, everyone gets `DEMO_ROLE`, and pages say so;
- the allow-list (`SEXTANT_ALLOWED_EMAILS`, `SEXTANT_ALLOWED_GROUPS`), when set, keeps out everyone else;
- the access file (`SEXTANT_ACCESS_FILE`, `app.access.policy`), when set, gives roles by group and address,
  and a visitor with none sees nothing;
- without an access file, whoever is let in is `admin`, as before roles existed (live, nothing configured:
  access control is off, and pages say so).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from app.access.policy import AccessRules, Grants, address_matches, default_rules

DEMO_ROLE = "admin"
OPEN_ROLE = "admin"
LOG_LINES_TAB, AUDIT_TAB = "Log lines", "Audit events"  # the Logs page's tabs (its `tab` parameter)


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
    """Whether the allow-list lets a visitor in: anyone when it is off; else a listed address, an address
    in a listed domain (`app.access.policy.address_matches`), or a member of a listed group."""
    if not policy.enabled:
        return True
    if any(address_matches(email, entry) for entry in policy.emails):
        return True
    return bool(groups_of(list(groups)) & set(policy.groups))


def data_for(key: str, params: Mapping[str, object] | None = None) -> tuple[str, ...]:
    """The data a view of page `key` shows; a visitor needs one of them to open it (none: nothing more
    than the page). The Logs page shows log lines or the audit trail, as its `tab` and filters say."""
    params = params or {}
    if key == "traces":
        return ("traces",)
    if key == "access_log":
        return ("access_log",)
    if key != "logs":
        return ()
    if params.get("tab") == AUDIT_TAB:
        return ("audit_trail",)
    if params.get("tab") == LOG_LINES_TAB or any(
        params.get(k) for k in ("service", "level", "q", "trace_id")
    ):
        return ("log_lines",)
    return ("log_lines", "audit_trail")


@dataclass(frozen=True)
class Viewer:
    """The visitor of this session: who, how we know, their roles and what those roles grant."""

    email: str | None
    roles: tuple[str, ...]
    grants: Grants
    how: Literal["demo", "open", "oidc", "proxy"]

    def may_open(self, key: str, **params: object) -> bool:
        """Whether this visitor may follow a link to page `key` with `params`."""
        needed = data_for(key, params)
        return self.grants.page(key) and (not needed or any(self.grants.sees(d) for d in needed))

    def sees(self, data: str) -> bool:
        return self.grants.sees(data)

    def may(self, action: str) -> bool:
        return self.grants.may(action)

    @property
    def name(self) -> str:
        """How the access log names this visitor."""
        return self.email or {"demo": "demo visitor", "open": "anonymous"}.get(self.how, "unknown")


@dataclass(frozen=True)
class Refusal:
    """Why a visitor is not let in at all."""

    reason: Literal["unknown", "unverified", "not_allowed", "no_role"]
    email: str | None = None


def identify(
    user: Mapping[str, Any],
    *,
    snapshot: bool,
    policy: AccessPolicy,
    rules: AccessRules | None,
) -> Viewer | Refusal:
    """Who `user` (`st.user` as a dict) is and what they may do; `rules` is the access file's, or None
    when no file is set. Pure: the page set-up draws what a `Refusal` means."""
    if snapshot and rules is None and not policy.enabled:
        return Viewer(None, (DEMO_ROLE,), default_rules().grants((DEMO_ROLE,)), "demo")
    if rules is None and not policy.enabled:
        return Viewer(_email(user), (OPEN_ROLE,), default_rules().grants((OPEN_ROLE,)), "open")
    logged_in = user.get("is_logged_in")
    email = _email(user) if logged_in is not False else None
    groups = groups_of(user.get("groups")) if logged_in is not False else set()
    if email and logged_in is True and _false(user.get("email_verified")):
        return Refusal("unverified", email)
    if not email and not groups:
        return Refusal("unknown")
    if not allowed(policy, email, groups):
        return Refusal("not_allowed", email)
    how: Literal["oidc", "proxy"] = "oidc" if logged_in is True else "proxy"
    if rules is None:
        return Viewer(email, (OPEN_ROLE,), default_rules().grants((OPEN_ROLE,)), how)
    roles = rules.roles_of(email, groups)
    if not roles:
        return Refusal("no_role", email)
    return Viewer(email, roles, rules.grants(roles), how)


def _email(user: Mapping[str, Any]) -> str | None:
    claim = user.get("email")
    return claim.strip() if isinstance(claim, str) and claim.strip() else None


def _false(claim: Any) -> bool:
    """An `email_verified` claim that says no (a JSON false, or the text a proxy might pass on)."""
    return claim is False or (isinstance(claim, str) and claim.strip().lower() == "false")
