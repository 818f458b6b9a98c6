"""Who may see Sextant: the allow-list rules, the configuration, and the gate on a real page."""

import pytest
from streamlit.testing.v1 import AppTest

from app.auth import AccessPolicy, allowed, groups_of, parse_list
from app.config import REPO_ROOT, load_config
from tests.conftest import shown

POLICY = AccessPolicy(emails=("alice@example.com", "@ops.example.com"), groups=("sre", "leadership"))


def test_nobody_is_kept_out_when_no_policy_is_set():
    assert not AccessPolicy().enabled
    assert allowed(AccessPolicy(), None)


@pytest.mark.parametrize(
    ("email", "groups", "expected"),
    [
        ("alice@example.com", (), True),
        ("ALICE@Example.com ", (), True),  # addresses compare without case or spaces
        ("bob@ops.example.com", (), True),  # a listed domain
        ("bob@notops.example.com", (), False),  # a domain is matched whole, after the @
        ("bob@example.com", ("sre",), True),
        ("bob@example.com", ("finance",), False),
        (None, ("leadership",), True),  # a proxy may pass groups only
        (None, (), False),
    ],
)
def test_an_address_a_domain_or_a_group_lets_a_visitor_in(email, groups, expected):
    assert allowed(POLICY, email, groups) is expected


def test_groups_come_as_a_list_or_as_a_header_value():
    assert groups_of(["SRE", " leadership "]) == {"sre", "leadership"}
    assert groups_of("sre, leadership") == {"sre", "leadership"}
    assert groups_of(None) == set()


def test_the_policy_comes_from_the_environment_or_secrets():
    config = load_config(
        {"SEXTANT_ALLOWED_EMAILS": "alice@example.com, @ops.example.com"}, {"SEXTANT_ALLOWED_GROUPS": "SRE"}
    )
    assert config.access == AccessPolicy(("alice@example.com", "@ops.example.com"), ("sre",))
    assert parse_list(" , a,, b ") == ("a", "b")
    assert not load_config({}).access.enabled
    assert load_config({}, {"auth": {"client_id": "x"}}).access.oidc  # Streamlit's own sign-in is set up


def page_as(monkeypatch, user: dict, secrets: dict | None = None, **env: str):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = AppTest.from_file(str(REPO_ROOT / "pages/2_SLOs.py"), default_timeout=60)
    at.user = user
    for key, value in (secrets or {}).items():
        at.secrets[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_gate_stops_a_page_before_it_draws_anything_for_an_unknown_visitor(snapshot_mode):
    at = page_as(snapshot_mode, {"email": "mallory@example.net"}, SEXTANT_ALLOWED_GROUPS="sre")
    assert any("mallory@example.net may not see Sextant" in shown(e.value) for e in at.error)
    assert not at.metric and not at.dataframe and not at.title
    anonymous = page_as(snapshot_mode, {"is_logged_in": False}, SEXTANT_ALLOWED_GROUPS="sre")
    assert any("does not know who you are" in e.value for e in anonymous.error)
    assert not anonymous.dataframe


def test_the_gate_lets_an_allowed_visitor_through(snapshot_mode):
    at = page_as(
        snapshot_mode, {"email": "bob@example.com", "groups": "sre,finance"}, SEXTANT_ALLOWED_GROUPS="sre"
    )
    assert not at.error and at.title[0].value == "SLOs" and at.dataframe
    snapshot_mode.delenv("SEXTANT_ALLOWED_GROUPS")
    open_page = page_as(snapshot_mode, {"email": "anyone@example.net"})  # no policy: open
    assert not open_page.error and open_page.dataframe


def test_with_oidc_set_up_an_anonymous_visitor_is_offered_streamlits_sign_in(snapshot_mode):
    oidc = {"auth": {"client_id": "sextant", "server_metadata_url": "https://id.example.com/.well-known"}}
    at = page_as(snapshot_mode, {"is_logged_in": False}, oidc, SEXTANT_ALLOWED_GROUPS="sre")
    assert any("Sign in to see Sextant" in i.value for i in at.info)
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.dataframe and not at.error
