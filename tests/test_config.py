"""load_config: environment and secrets, per-backend auth/TLS/timeouts, mode, and clear errors."""

from __future__ import annotations

from pathlib import Path

import certifi
import pytest

from app import config as config_module
from app.config import DEFAULT_SNAPSHOT, ConfigError, current_config, load_config, streamlit_secrets


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
