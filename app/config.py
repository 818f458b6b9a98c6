"""Sextant's settings, from environment variables and Streamlit secrets.

Each setting is named like its environment variable; the same names work as top-level keys in
`.streamlit/secrets.toml`. The environment wins over secrets, so a deployment can override one value
without editing the file. Per backend (`PROMETHEUS`, `OPENSEARCH`, `JAEGER`):

    SEXTANT_<B>_URL       base URL; setting any backend URL switches the app to live mode
    SEXTANT_<B>_TOKEN     bearer token (Authorization header)
    SEXTANT_<B>_USERNAME  basic auth user, with SEXTANT_<B>_PASSWORD
    SEXTANT_<B>_HEADERS   extra request headers as a JSON object
    SEXTANT_<B>_VERIFY    TLS verification: true, false, or a CA bundle path
    SEXTANT_<B>_TIMEOUT   seconds (default 10)

plus `SEXTANT_PROMETHEUS_ORG_ID` (sent as `X-Scope-OrgID`, for Mimir/Cortex/Thanos tenants),
`SEXTANT_SNAPSHOT`, the snapshot file replayed when no backend URL is set (default
`snapshots/demo.json.gz` in the repository), and who may see the app (`app.auth`): `SEXTANT_ALLOWED_EMAILS`
(addresses, or `@domain` for a whole domain) and `SEXTANT_ALLOWED_GROUPS`, comma-separated; unset, anyone.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from app.auth import AccessPolicy, parse_list

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SNAPSHOT = REPO_ROOT / "snapshots" / "demo.json.gz"
DEFAULT_TIMEOUT_S = 10.0
BACKENDS = ("prometheus", "opensearch", "jaeger")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(ValueError):
    """A setting has a value Sextant cannot use; the message names the setting."""


@dataclass(frozen=True)
class BackendConfig:
    name: str
    url: str | None = None
    token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)  # a tuple keeps Config hashable
    verify: bool | str = True
    timeout_s: float = DEFAULT_TIMEOUT_S

    @property
    def configured(self) -> bool:
        return self.url is not None

    def request_headers(self) -> dict[str, str]:
        """Extra headers plus the bearer token, if any."""
        headers = dict(self.headers)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def basic_auth(self) -> tuple[str, str] | None:
        return (self.username, self.password or "") if self.username else None


@dataclass(frozen=True)
class Config:
    prometheus: BackendConfig
    opensearch: BackendConfig
    jaeger: BackendConfig
    prometheus_org_id: str | None = None
    snapshot_path: Path = DEFAULT_SNAPSHOT
    access: AccessPolicy = AccessPolicy()

    @property
    def mode(self) -> Literal["live", "snapshot"]:
        backends = (self.prometheus, self.opensearch, self.jaeger)
        return "live" if any(b.configured for b in backends) else "snapshot"


def load_config(environ: Mapping[str, str] = os.environ, secrets: Mapping[str, Any] | None = None) -> Config:
    """Build the configuration from `environ`, then `secrets` for anything the environment leaves unset.

    Pure: pass dictionaries in tests. Raises `ConfigError` naming the offending setting.
    """

    def get(name: str) -> str | None:
        for source in (environ, secrets or {}):
            value = source.get(name)
            if value is not None and str(value).strip() != "":
                return str(value).strip()
        return None

    backends = {name: _backend(name, get) for name in BACKENDS}
    snapshot = get("SEXTANT_SNAPSHOT")
    return Config(
        prometheus=backends["prometheus"],
        opensearch=backends["opensearch"],
        jaeger=backends["jaeger"],
        prometheus_org_id=get("SEXTANT_PROMETHEUS_ORG_ID"),
        snapshot_path=Path(snapshot) if snapshot else DEFAULT_SNAPSHOT,
        access=AccessPolicy(
            oidc=isinstance((secrets or {}).get("auth"), Mapping),
            emails=parse_list(get("SEXTANT_ALLOWED_EMAILS")),
            groups=parse_list(get("SEXTANT_ALLOWED_GROUPS")),
        ),
    )


def streamlit_secrets() -> Mapping[str, Any]:
    """Streamlit's secrets as a plain mapping; empty outside Streamlit or without a secrets file.

    The only place that touches `st.secrets`: reading it raises `FileNotFoundError` (a
    `StreamlitSecretNotFoundError`) when no secrets.toml exists, even through `.get()`.
    """
    try:
        import streamlit as st

        return st.secrets.to_dict()
    except FileNotFoundError:
        return {}


def current_config() -> Config:
    """The configuration of this process: environment first, then Streamlit secrets."""
    return load_config(os.environ, streamlit_secrets())


def _backend(name: str, get: Callable[[str], str | None]) -> BackendConfig:
    prefix = f"SEXTANT_{name.upper()}_"
    url = get(prefix + "URL")
    if url is not None and not url.startswith(("http://", "https://")):
        raise ConfigError(f"{prefix}URL must start with http:// or https://, got {url!r}")
    token = get(prefix + "TOKEN")
    username = get(prefix + "USERNAME")
    password = get(prefix + "PASSWORD")
    if password and not username:
        raise ConfigError(f"{prefix}PASSWORD is set without {prefix}USERNAME")
    if token and username:
        raise ConfigError(f"set either {prefix}TOKEN or {prefix}USERNAME/PASSWORD, not both")
    return BackendConfig(
        name=name,
        url=url.rstrip("/") if url else None,
        token=token,
        username=username,
        password=password,
        headers=_headers(prefix + "HEADERS", get(prefix + "HEADERS")),
        verify=_verify(prefix + "VERIFY", get(prefix + "VERIFY")),
        timeout_s=_timeout(prefix + "TIMEOUT", get(prefix + "TIMEOUT")),
    )


def _headers(setting: str, text: str | None) -> tuple[tuple[str, str], ...]:
    if text is None:
        return ()
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{setting} is not valid JSON: {exc.args[0]}") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{setting} must be a JSON object of strings")
    return tuple((str(k), v) for k, v in value.items())


def _verify(setting: str, text: str | None) -> bool | str:
    if text is None or text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    if not Path(text).exists():
        raise ConfigError(f"{setting}: no CA bundle at {text!r} (use true, false or a path)")
    return text


def _timeout(setting: str, text: str | None) -> float:
    if text is None:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{setting} must be a number of seconds, got {text!r}") from None
    if not 0 < value <= 600:
        raise ConfigError(f"{setting} must be between 0 and 600 seconds, got {text!r}")
    return value
