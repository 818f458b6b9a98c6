"""Who may see Sextant: the allow-list rules, identities and their roles, the configuration, and the gate
on a real page."""

import pytest
from streamlit.testing.v1 import AppTest

from app.access import policy
from app.auth import AccessPolicy, Refusal, Viewer, allowed, groups_of, identify, parse_list
from app.config import REPO_ROOT, ConfigError, load_config
from tests.access_support import EXAMPLE
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
        ("evil@attacker.org@ops.example.com", (), False),  # exactly one @
        ("@ops.example.com", (), False),  # someone before it
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


RULES = policy.load(EXAMPLE)


def who(user: dict, snapshot: bool = False, policy_: AccessPolicy = AccessPolicy(), rules=RULES):
    return identify(user, snapshot=snapshot, policy=policy_, rules=rules)


def test_the_demo_needs_no_sign_in_and_access_control_off_is_said_to_be_off():
    demo = who({}, snapshot=True, rules=None)
    assert isinstance(demo, Viewer) and demo.how == "demo" and demo.roles == ("admin",) and demo.email is None
    open_live = who({"email": "x@y.example"}, rules=None)
    assert isinstance(open_live, Viewer) and open_live.how == "open" and open_live.may_open("access_log")
    # an access file applies to the snapshot too: someone chose to restrict it
    assert who({}, snapshot=True) == Refusal("unknown")


def test_roles_come_from_the_proxys_groups_or_an_oidc_address():
    oncall = who({"email": "sam@example.com", "groups": "SRE, finance"})
    assert isinstance(oncall, Viewer) and oncall.roles == ("oncall",) and oncall.how == "proxy"
    assert oncall.may_open("logs") and oncall.may_open("logs", service="filing")
    assert not oncall.may_open("logs", tab="Audit events") and not oncall.may_open("data_sources")
    admin = who({"is_logged_in": True, "email": "Alice@Example.com", "email_verified": True})
    assert isinstance(admin, Viewer) and admin.roles == ("admin",) and admin.how == "oidc"
    two = who({"email": "x@example.com", "groups": ["audit", "support"]})
    assert isinstance(two, Viewer) and two.roles == ("auditor", "support")
    assert two.may_open("logs", tab="Audit events") and two.may_open("logs", trace_id="ab")


@pytest.mark.parametrize("claim", [False, "false", "FALSE"])
def test_an_oidc_address_its_provider_has_not_verified_is_refused(claim):
    user = {"is_logged_in": True, "email": "alice@example.com", "email_verified": claim}
    assert who(user) == Refusal("unverified", "alice@example.com")
    assert who(user, rules=None, policy_=AccessPolicy(emails=("alice@example.com",))).reason == "unverified"


def test_who_is_unknown_not_allowed_or_without_a_role_is_refused():
    assert who({"is_logged_in": False, "email": "spoofed@example.com"}) == Refusal("unknown")
    assert who({"email": "nobody@example.net"}) == Refusal("no_role", "nobody@example.net")
    gated = AccessPolicy(groups=("sre",))
    assert who({"email": "a@example.com", "groups": "support"}, policy_=gated) == Refusal(
        "not_allowed", "a@example.com"
    )
    let_in = who({"email": "a@example.com", "groups": "sre"}, policy_=gated, rules=None)
    assert isinstance(let_in, Viewer) and let_in.roles == ("admin",)  # no file: as before roles existed


def test_the_access_settings_are_checked_when_read(tmp_path):
    config = load_config({"SEXTANT_ACCESS_FILE": str(EXAMPLE), "SEXTANT_MASKING_KEY": "k3y"})
    assert config.access_file == EXAMPLE and config.masking_key == "k3y" and "k3y" not in repr(config)
    with pytest.raises(ConfigError, match="SEXTANT_ACCESS_FILE: no file at"):
        load_config({"SEXTANT_ACCESS_FILE": str(tmp_path / "nope.yaml")})
    with pytest.raises(ConfigError, match="SEXTANT_ACCESS_SPOOL_MAX must be at least 1"):
        load_config({"SEXTANT_ACCESS_SPOOL_MAX": "0"})


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


def test_a_bad_access_file_stops_every_page_with_one_error_naming_it(snapshot_mode, tmp_path):
    bad = tmp_path / "access.yaml"
    bad.write_text("roles: {executive: {pages: [overveiw]}}")
    at = page_as(snapshot_mode, {"email": "a@example.com"}, SEXTANT_ACCESS_FILE=str(bad))
    (error,) = [shown(e.value) for e in at.error]
    assert "access file cannot be used" in error and "roles.executive.pages[0]" in error
    assert not at.title and not at.dataframe


def test_a_visitor_without_a_role_sees_nothing(snapshot_mode):
    at = page_as(snapshot_mode, {"email": "nobody@example.net"}, SEXTANT_ACCESS_FILE=str(EXAMPLE))
    assert any("nobody@example.net has no role in Sextant" in shown(e.value) for e in at.error)
    assert not at.title and not at.dataframe and not at.metric
