"""load_config: environment and secrets, per-backend auth/TLS/timeouts, mode, and clear errors."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import certifi
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import config as config_module
from app.config import (
    BACKENDS,
    DEFAULT_SNAPSHOT,
    ConfigError,
    current_config,
    load_config,
    streamlit_secrets,
    without_credentials,
)
from app.sources import build_sources, snapshot

BACKENDS_UPPER = tuple(b.upper() for b in BACKENDS)


def test_nothing_set_means_snapshot_mode_with_defaults():
    config = load_config({})
    assert config.mode == "snapshot"
    assert config.snapshot_path == DEFAULT_SNAPSHOT
    assert DEFAULT_SNAPSHOT.parts[-2:] == ("snapshots", "demo.json.gz")
    for backend in (config.prometheus, config.opensearch, config.jaeger):
        assert backend.url is None and not backend.configured
        assert backend.verify is True and backend.timeout_s == 10.0
        assert backend.request_headers() == {} and backend.basic_auth() is None
    assert config.prometheus_org_id is None


def test_any_backend_url_means_live_mode():
    config = load_config({"SEXTANT_JAEGER_URL": "http://127.0.0.1:16686/"})
    assert config.mode == "live"
    assert config.jaeger.url == "http://127.0.0.1:16686"


def test_all_settings_of_one_backend(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_bytes(Path(certifi.where()).read_bytes())
    config = load_config(
        {
            "SEXTANT_PROMETHEUS_URL": "https://prom.example",
            "SEXTANT_PROMETHEUS_TOKEN": "s3cret",
            "SEXTANT_PROMETHEUS_HEADERS": '{"X-Team": "tax"}',
            "SEXTANT_PROMETHEUS_VERIFY": str(ca),
            "SEXTANT_PROMETHEUS_TIMEOUT": "2.5",
            "SEXTANT_PROMETHEUS_ORG_ID": "tenant-a",
            "SEXTANT_SNAPSHOT": "other.json.gz",
        }
    )
    prom = config.prometheus
    assert prom.request_headers() == {"X-Team": "tax", "Authorization": "Bearer s3cret"}
    assert prom.verify == str(ca) and prom.timeout_s == 2.5
    assert config.prometheus_org_id == "tenant-a"
    assert config.snapshot_path == Path("other.json.gz")
    assert "s3cret" not in repr(config)
    hash(config)  # usable as a cache key


def test_basic_auth_and_verify_words():
    config = load_config(
        {
            "SEXTANT_OPENSEARCH_URL": "http://o",
            "SEXTANT_OPENSEARCH_USERNAME": "reader",
            "SEXTANT_OPENSEARCH_PASSWORD": "pw",
            "SEXTANT_OPENSEARCH_VERIFY": "False",
            "SEXTANT_JAEGER_VERIFY": "yes",
        }
    )
    assert config.opensearch.basic_auth() == ("reader", "pw")
    assert config.opensearch.verify is False and config.jaeger.verify is True
    assert "pw" not in repr(config)


def test_environment_wins_over_secrets_and_blank_values_are_unset():
    config = load_config(
        {"SEXTANT_PROMETHEUS_URL": "http://env", "SEXTANT_OPENSEARCH_URL": "  "},
        {"SEXTANT_PROMETHEUS_URL": "http://secret", "SEXTANT_OPENSEARCH_URL": "http://os-secret"},
    )
    assert config.prometheus.url == "http://env"
    assert config.opensearch.url == "http://os-secret"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SEXTANT_PROMETHEUS_URL": "prom:9090"}, "SEXTANT_PROMETHEUS_URL must start with http"),
        ({"SEXTANT_JAEGER_TIMEOUT": "soon"}, "SEXTANT_JAEGER_TIMEOUT must be a number"),
        ({"SEXTANT_JAEGER_TIMEOUT": "0"}, "between 0 and 600"),
        ({"SEXTANT_OPENSEARCH_HEADERS": "{bad"}, "SEXTANT_OPENSEARCH_HEADERS is not valid JSON"),
        ({"SEXTANT_OPENSEARCH_HEADERS": '{"a": 1}'}, "JSON object of strings"),
        ({"SEXTANT_OPENSEARCH_HEADERS": "[]"}, "JSON object of strings"),
        ({"SEXTANT_PROMETHEUS_VERIFY": "/no/such/ca.pem"}, "SEXTANT_PROMETHEUS_VERIFY: no CA bundle"),
        ({"SEXTANT_PROMETHEUS_PASSWORD": "x"}, "PASSWORD is set without SEXTANT_PROMETHEUS_USERNAME"),
        (
            {"SEXTANT_PROMETHEUS_TOKEN": "t", "SEXTANT_PROMETHEUS_USERNAME": "u"},
            "either SEXTANT_PROMETHEUS_TOKEN or",
        ),
    ],
)
def test_bad_values_name_the_setting(environ, message):
    with pytest.raises(ConfigError, match=message):
        load_config(environ)


def test_streamlit_secrets_without_a_file_is_empty(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert streamlit_secrets() == {}


def test_streamlit_secrets_are_read(monkeypatch):
    class FakeSecrets:
        def to_dict(self):
            return {"SEXTANT_JAEGER_URL": "http://from-secrets"}

    import streamlit as st

    monkeypatch.setattr(st, "secrets", FakeSecrets())
    monkeypatch.delenv("SEXTANT_JAEGER_URL", raising=False)
    assert streamlit_secrets() == {"SEXTANT_JAEGER_URL": "http://from-secrets"}
    assert current_config().jaeger.url == "http://from-secrets"


def test_repo_root_holds_the_app():
    assert (config_module.REPO_ROOT / "app" / "config.py").exists()


# -- hostile and odd values ------------------------------------------------------------------------------

SECRET = "hunter2-s3cret"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("htp:/x", "SEXTANT_JAEGER_URL must start with http:// or https://"),
        ("http:/x", "must start with http:// or https://"),
        ("http://[::1", "SEXTANT_JAEGER_URL is not a URL (Invalid IPv6 URL)"),  # today: accepted
        (
            "http://h:99999",
            "SEXTANT_JAEGER_URL has a port that is not a number from 1 to 65535",
        ),  # today: accepted
        ("http://h:abc", "has a port that is not a number"),  # this and the two above: accepted today
        ("http://h:0", "has a port that is not a number"),
        ("http://", "SEXTANT_JAEGER_URL has no host name"),
        ("http://:9090", "has no host name"),
        ("http://h x", "contains a space or a control character"),
        ("http://h\x7f", "contains a space or a control character"),
        ("http://xn--a", "is not a usable URL"),  # not IDNA: httpx would fail on the first request
    ],
)
def test_bad_urls_are_refused_naming_the_variable(url, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config({"SEXTANT_JAEGER_URL": url})


@pytest.mark.parametrize(
    "url",
    [
        f"http://admin:{SECRET}@h:99999",
        f"http://admin:{SECRET}@h:abc",
        f"http://admin:{SECRET}@[::1",
        f"htp://admin:{SECRET}@h",
        f"admin:{SECRET}@prom:9090",  # no scheme: urlsplit (and _http.redact_url) see no password here
        f"http://admin:{SECRET}/x@h",  # a '/' in the password cuts the host short for urlsplit
        f"http://admin:{SECRET}@h x",
    ],
)
def test_a_password_in_a_bad_url_is_never_in_the_message(url):
    with pytest.raises(ConfigError) as refused:
        load_config({"SEXTANT_PROMETHEUS_URL": url})
    assert "SEXTANT_PROMETHEUS_URL" in str(refused.value)
    assert SECRET not in str(refused.value) and "admin" not in str(refused.value)


def test_credentials_in_a_url_move_to_basic_auth_and_out_of_the_url():
    config = load_config(
        {"SEXTANT_PROMETHEUS_URL": f"https://reader:{SECRET.replace('-', '%2D')}@prom:9090/"}
    )
    assert config.prometheus.url == "https://prom:9090"
    assert config.prometheus.basic_auth() == ("reader", SECRET)
    assert SECRET not in repr(config)
    with pytest.raises(ConfigError, match="carries a user name and password"):
        load_config({"SEXTANT_PROMETHEUS_URL": "http://a:b@h", "SEXTANT_PROMETHEUS_USERNAME": "c"})
    with pytest.raises(ConfigError, match="either SEXTANT_PROMETHEUS_TOKEN or"):
        load_config({"SEXTANT_PROMETHEUS_URL": "http://a:b@h", "SEXTANT_PROMETHEUS_TOKEN": "t"})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SEXTANT_PROMETHEUS_TIMEOUT": "abc"}, "SEXTANT_PROMETHEUS_TIMEOUT must be a number of seconds"),
        ({"SEXTANT_PROMETHEUS_TIMEOUT": "nan"}, "SEXTANT_PROMETHEUS_TIMEOUT must be between 0 and 600"),
        ({"SEXTANT_PROMETHEUS_TIMEOUT": "inf"}, "between 0 and 600"),
        ({"SEXTANT_PROMETHEUS_TIMEOUT": "600.5"}, "between 0 and 600"),
        ({"SEXTANT_PROMETHEUS_TIMEOUT": "-1"}, "between 0 and 600"),
        ({"SEXTANT_OPENSEARCH_HEADERS": '{"X Team": "tax"}'}, "'X Team' is not an HTTP header name"),
        (
            {"SEXTANT_OPENSEARCH_HEADERS": '{"X-Key": "k\\u00e9y"}'},
            "the value of X-Key may hold only printable",
        ),
        ({"SEXTANT_OPENSEARCH_HEADERS": '{"X-Key": "a\\nb"}'}, "the value of X-Key may hold only printable"),
        ({"SEXTANT_JAEGER_TOKEN": "t\u00f6ken"}, "SEXTANT_JAEGER_TOKEN may hold only printable ASCII"),
        ({"SEXTANT_PROMETHEUS_ORG_ID": "team\r\nX-Admin: 1"}, "SEXTANT_PROMETHEUS_ORG_ID may hold only"),
        ({"SEXTANT_JAEGER_USERNAME": "a:b"}, "SEXTANT_JAEGER_USERNAME must be UTF-8 text without a colon"),
        ({"SEXTANT_JAEGER_USERNAME": "u", "SEXTANT_JAEGER_PASSWORD": "\udcff"}, "cannot be encoded as UTF-8"),
        ({"SEXTANT_JAEGER_VERIFY": "/etc/hostname"}, "SEXTANT_JAEGER_VERIFY: '/etc/hostname' is not a"),
        (
            {"SEXTANT_JAEGER_VERIFY": "0" * 300},
            "is not a readable PEM CA bundle (File name too long)",
        ),
    ],
)
def test_values_httpx_would_choke_on_are_refused_naming_the_variable(environ, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(environ)


def test_secret_values_are_never_quoted():
    for environ in (
        {"SEXTANT_JAEGER_TOKEN": f"{SECRET}\u00e9"},
        {"SEXTANT_JAEGER_HEADERS": json.dumps({"X-Key": f"{SECRET}\n"})},
        {"SEXTANT_JAEGER_USERNAME": "u", "SEXTANT_JAEGER_PASSWORD": f"{SECRET}\udcff"},
    ):
        with pytest.raises(ConfigError) as refused:
            load_config(environ)
        assert SECRET not in str(refused.value)


def test_without_credentials_strips_them_from_any_text():
    assert without_credentials(f"http://a:{SECRET}@h:1/p") == "http://h:1/p"
    assert without_credentials(f"a:{SECRET}@h") == "h"
    assert without_credentials("http://h/p") == "http://h/p"


PER_BACKEND = ("URL", "TOKEN", "USERNAME", "PASSWORD", "HEADERS", "VERIFY", "TIMEOUT", "DOWN_S")
SETTINGS = (
    *(f"SEXTANT_{backend}_{setting}" for backend in BACKENDS_UPPER for setting in PER_BACKEND),
    "SEXTANT_PROMETHEUS_ORG_ID",
    "SEXTANT_SNAPSHOT",
    "SEXTANT_ALLOWED_EMAILS",
    "SEXTANT_ALLOWED_GROUPS",
)
ODD_VALUES = st.one_of(
    st.text(),  # any code point, lone surrogates included (a secrets.toml can hold them)
    st.sampled_from(
        ["http://h:99999", "http://[::1", "htp:/x", "http://h", "nan", "1e309", '{"a": "b"}', "no"]
    ),
    st.text(alphabet="http:/[]@%:.0123456789abc", max_size=30),  # near-URLs
    st.text().map(lambda tail: f"http://u:{SECRET}@{tail}"),
    st.text().map(lambda text: SECRET + text),
    st.text(min_size=2000, max_size=4000),
)


def holds_secret(name: str, value: str) -> bool:
    """Whether `value` carries SECRET where it is secret: a password, token or header, or a URL's
    `user:password@` part (the rest of a URL is no secret and may be quoted)."""
    if name.endswith(("_TOKEN", "_PASSWORD", "_HEADERS")):
        return SECRET in value
    return name.endswith("_URL") and SECRET in value and "@" in value[value.index(SECRET) :]


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(SETTINGS), ODD_VALUES, max_size=4))
def test_any_text_in_any_setting_gives_working_clients_or_one_config_error(environ):
    try:
        config = load_config(environ)
    except ConfigError as exc:
        named = [name for name in environ if name in str(exc)]
        assert named, f"the message names no setting: {exc}"
        if any(holds_secret(name, environ[name]) for name in named):
            assert SECRET not in str(exc)
        return
    if config.mode == "live":
        build_sources(config).close()  # the httpx clients accept every value that passed
    elif config.snapshot_path != DEFAULT_SNAPSHOT:
        assert snapshot.load_or_empty(config.snapshot_path).problem  # an odd path is a problem, not a crash


def test_settings_for_a_block_put_back_only_what_they_changed(monkeypatch):
    monkeypatch.setenv("SEXTANT_TEST_KEPT", "before")
    monkeypatch.delenv("SEXTANT_TEST_UNSET", raising=False)
    with pytest.raises(RuntimeError), config_module.settings_for(
        {"SEXTANT_TEST_KEPT": "during", "SEXTANT_TEST_UNSET": "during"}
    ):
        assert os.environ["SEXTANT_TEST_KEPT"] == os.environ["SEXTANT_TEST_UNSET"] == "during"
        monkeypatch.setenv("SEXTANT_TEST_OTHER", "set meanwhile")  # another name: not the block's business
        raise RuntimeError("a run that gave up")
    assert os.environ["SEXTANT_TEST_KEPT"] == "before"
    assert "SEXTANT_TEST_UNSET" not in os.environ
    assert os.environ["SEXTANT_TEST_OTHER"] == "set meanwhile"
