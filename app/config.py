"""Sextant's settings, from environment variables and Streamlit secrets.

Each setting is named like its environment variable; the same names work as top-level keys in
`.streamlit/secrets.toml`. The environment wins over secrets, so a deployment can override one value
without editing the file. Per backend (`PROMETHEUS`, `OPENSEARCH`, `JAEGER`, and the optional
`ALERTMANAGER`, which adds silences and inhibitions to the Alerts page):

    SEXTANT_<B>_URL       base URL; setting any backend URL switches the app to live mode
    SEXTANT_<B>_TOKEN     bearer token (Authorization header)
    SEXTANT_<B>_USERNAME  basic auth user, with SEXTANT_<B>_PASSWORD (or `user:password@` in the URL)
    SEXTANT_<B>_HEADERS   extra request headers as a JSON object
    SEXTANT_<B>_VERIFY    TLS verification: true, false, or a CA bundle path
    SEXTANT_<B>_TIMEOUT   seconds (default 10, at most 600)
    SEXTANT_<B>_DOWN_S    seconds a backend counts as down after a timeout or refused connection (default
                          30, at most 3600; 0 turns this off), see `app.sources.breaker`

plus `SEXTANT_PROMETHEUS_ORG_ID` (sent as `X-Scope-OrgID`, for Mimir/Cortex/Thanos tenants),
`SEXTANT_SNAPSHOT`, the snapshot file replayed when no backend URL is set (default
`snapshots/demo.json.gz` in the repository), and who may see what (`app.auth`):

    SEXTANT_ALLOWED_EMAILS    who may see the app at all: addresses, or `@domain`, comma-separated (unset:
    SEXTANT_ALLOWED_GROUPS    anyone), and groups
    SEXTANT_ACCESS_FILE       the access file: roles, who has them, and what each may see and do
                              (`app.access.policy`; the repository's `access.example.yaml` documents it)
    SEXTANT_MASKING_KEY       the key of the tokens that stand for personal data (`app.masking`); unset, the
                              public demo key
    SEXTANT_ACCESS_SPOOL      the file holding access events until OpenSearch takes them (default
                              `var/access-spool.jsonl` in the repository), SEXTANT_ACCESS_SPOOL_MAX events
                              at most (default 10000)

The weekly review (`app.report`): `SEXTANT_REPORTS_DIR` (frozen weeks and action items, default `reports/`
in the repository), `SEXTANT_REPORT_KEY` (the secret that signs frozen weeks, at least 16 characters),
`SEXTANT_SLACK_WEBHOOK_URL` (an incoming webhook for the summary: a secret, never shown whole) and
`SEXTANT_PUBLIC_URL` (the app's address, for links in messages sent from the command line).

`SEXTANT_CACHE` (environment only: read before any configuration, by `app.filecache.cache_dir`) is where
Sextant keeps what a new process need not compute again: the snapshot's index and parsed SLO definition
files (default `~/.cache/sextant`, shared with the stack's downloads).

Every value is checked here, not on first use: whatever `load_config` accepts builds working clients, and
anything else raises one `ConfigError` naming the setting and what is wrong. Messages never quote a
password, token or header value; a URL's `user:password@` moves into the basic-auth fields, so it is not
in the URL that pages show and logs print either.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import ssl
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from app.auth import AccessPolicy, parse_list
from app.masking import DEMO_KEY

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SNAPSHOT = REPO_ROOT / "snapshots" / "demo.json.gz"
DEFAULT_REPORTS_DIR = REPO_ROOT / "reports"
MIN_REPORT_KEY_CHARS = 16
DEFAULT_TIMEOUT_S = 10.0
MAX_TIMEOUT_S = 600.0
DEFAULT_DOWN_S = 30.0
MAX_DOWN_S = 3600.0
DEFAULT_SPOOL = REPO_ROOT / "var" / "access-spool.jsonl"
DEFAULT_SPOOL_MAX = 10_000
BACKENDS = ("prometheus", "opensearch", "jaeger", "alertmanager")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")  # an RFC 9110 token
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*\Z")
_QUOTED_CHARS = 80


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
    down_s: float = DEFAULT_DOWN_S

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
    alertmanager: BackendConfig = BackendConfig("alertmanager")
    access_file: Path | None = None
    masking_key: str = field(default=DEMO_KEY, repr=False)
    access_spool: Path = DEFAULT_SPOOL
    access_spool_max: int = DEFAULT_SPOOL_MAX
    reports_dir: Path = DEFAULT_REPORTS_DIR
    report_key: str | None = field(default=None, repr=False)
    slack_webhook_url: str | None = field(default=None, repr=False)
    public_url: str | None = None

    @property
    def mode(self) -> Literal["live", "snapshot"]:
        backends = (self.prometheus, self.opensearch, self.jaeger, self.alertmanager)
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
    reports = get("SEXTANT_REPORTS_DIR")
    public_url = get("SEXTANT_PUBLIC_URL")
    return Config(
        prometheus=backends["prometheus"],
        opensearch=backends["opensearch"],
        jaeger=backends["jaeger"],
        alertmanager=backends["alertmanager"],
        prometheus_org_id=_header_value("SEXTANT_PROMETHEUS_ORG_ID", get("SEXTANT_PROMETHEUS_ORG_ID")),
        snapshot_path=Path(snapshot) if snapshot else DEFAULT_SNAPSHOT,
        access=AccessPolicy(
            oidc=isinstance((secrets or {}).get("auth"), Mapping),
            emails=parse_list(get("SEXTANT_ALLOWED_EMAILS")),
            groups=parse_list(get("SEXTANT_ALLOWED_GROUPS")),
        ),
        access_file=_access_file(get("SEXTANT_ACCESS_FILE")),
        masking_key=get("SEXTANT_MASKING_KEY") or DEMO_KEY,
        access_spool=Path(get("SEXTANT_ACCESS_SPOOL") or DEFAULT_SPOOL),
        access_spool_max=_spool_max(get("SEXTANT_ACCESS_SPOOL_MAX")),
        reports_dir=_reports_dir(reports) if reports else DEFAULT_REPORTS_DIR,
        report_key=_report_key(get("SEXTANT_REPORT_KEY")),
        slack_webhook_url=_webhook(get("SEXTANT_SLACK_WEBHOOK_URL")),
        public_url=parse_url("SEXTANT_PUBLIC_URL", public_url)[0] if public_url else None,
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


@contextlib.contextmanager
def settings_for(values: Mapping[str, str]) -> Iterator[None]:
    """Set `values` in the environment for the block (one recording or test run), then put back what each
    of those names held before; an unset one is unset again.

    Only these names are touched: `unittest.mock.patch.dict(os.environ, …)` clears and refills the whole
    environment on exit, which a thread still running then (an AppTest script that outlived its time
    limit, a background sender) could read empty."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _backend(name: str, get: Callable[[str], str | None]) -> BackendConfig:
    prefix = f"SEXTANT_{name.upper()}_"
    text = get(prefix + "URL")
    url, url_user, url_password = parse_url(prefix + "URL", text) if text is not None else (None, None, None)
    token = _header_value(prefix + "TOKEN", get(prefix + "TOKEN"), secret=True)
    username = get(prefix + "USERNAME")
    password = get(prefix + "PASSWORD")
    if url_user is not None:
        if username or password:
            raise ConfigError(
                f"{prefix}URL carries a user name and password, and {prefix}USERNAME/PASSWORD are set too: "
                "keep one of them"
            )
        username, password = url_user, url_password
    if password and not username:
        raise ConfigError(f"{prefix}PASSWORD is set without {prefix}USERNAME")
    if token and username:
        raise ConfigError(f"set either {prefix}TOKEN or {prefix}USERNAME/PASSWORD, not both")
    _check_credentials(prefix, username, password)
    return BackendConfig(
        name=name,
        url=url,
        token=token,
        username=username,
        password=password,
        headers=_headers(prefix + "HEADERS", get(prefix + "HEADERS")),
        verify=_verify(prefix + "VERIFY", get(prefix + "VERIFY")),
        timeout_s=parse_timeout(prefix + "TIMEOUT", get(prefix + "TIMEOUT")),
        down_s=_down_s(prefix + "DOWN_S", get(prefix + "DOWN_S")),
    )


def parse_url(setting: str, text: str) -> tuple[str, str | None, str | None]:
    """A backend base URL: (the URL without credentials or trailing slash, the user name and the password
    it carried, if any). Raises `ConfigError` naming `setting`; no message ever holds the password."""
    shown = _quoted(without_credentials(text))
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in text):
        raise ConfigError(f"{setting} contains a space or a control character: {shown}")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        if "port" in str(exc).lower():
            raise ConfigError(f"{setting} has a port that is not a number from 1 to 65535: {shown}") from None
        raise ConfigError(f"{setting} is not a URL ({exc}): {shown}") from None
    if parts.scheme.lower() not in ("http", "https") or not text.lower().startswith(parts.scheme + "://"):
        raise ConfigError(f"{setting} must start with http:// or https://, got {shown}")
    if not parts.hostname:
        raise ConfigError(f"{setting} has no host name: {shown}")
    if port == 0:
        raise ConfigError(f"{setting} has a port that is not a number from 1 to 65535: {shown}")
    import httpx  # here, not at the top: `python -m app.slo --help` must not wait for it

    try:
        host = httpx.URL(text).host  # decoding the host checks IDNA, which httpx otherwise does on first use
    except (httpx.InvalidURL, ValueError) as exc:  # e.g. a host name that is not valid IDNA
        reason = str(exc).replace(parts.password, "***") if parts.password else str(exc)
        raise ConfigError(f"{setting} is not a usable URL ({reason}): {shown}") from None
    if not host:
        raise ConfigError(f"{setting} has no host name: {shown}")
    user = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    bare = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
    return bare.rstrip("/"), user, password


def without_credentials(text: str) -> str:
    """`text` without whatever comes between `//` and the last `@`: the user name and password of a URL,
    even one that does not parse (`_http.redact_url` needs a valid URL) or has no scheme (`user:pw@host`)."""
    start = text.find("//")
    start = start + 2 if start >= 0 else 0
    at = text.rfind("@", start)
    return text if at < 0 else text[:start] + text[at + 1 :]


def _quoted(text: str) -> str:
    """`text` as a message quotes it: control characters visible, long text cut short."""
    return repr(text if len(text) <= _QUOTED_CHARS else text[: _QUOTED_CHARS - 1] + "…")


def _check_credentials(prefix: str, username: str | None, password: str | None) -> None:
    """Basic auth sends `user:password` as UTF-8: refuse what cannot be sent (never quoting either)."""
    if username is not None and (":" in username or not _utf8(username)):
        raise ConfigError(f"{prefix}USERNAME must be UTF-8 text without a colon")
    if password is not None and not _utf8(password):
        raise ConfigError(f"{prefix}PASSWORD cannot be encoded as UTF-8")


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _header_value(setting: str, text: str | None, *, secret: bool = False) -> str | None:
    """A value sent in an HTTP header: printable ASCII only (httpx refuses anything else)."""
    if text is not None and not _HEADER_VALUE.match(text):
        shown = "" if secret else f", got {_quoted(text)}"
        raise ConfigError(f"{setting} may hold only printable ASCII characters{shown}")
    return text


def _headers(setting: str, text: str | None) -> tuple[tuple[str, str], ...]:
    if text is None:
        return ()
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{setting} is not valid JSON: {exc.args[0]}") from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{setting} must be a JSON object of strings")
    for key, header in value.items():
        if not _HEADER_NAME.match(key):
            raise ConfigError(f"{setting}: {_quoted(key)} is not an HTTP header name")
        if not _HEADER_VALUE.match(header):  # the value is not quoted: it may be a secret
            raise ConfigError(f"{setting}: the value of {key} may hold only printable ASCII characters")
    return tuple(value.items())


def _verify(setting: str, text: str | None) -> bool | str:
    if text is None or text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    path = Path(text)
    try:
        if not path.exists():
            raise ConfigError(f"{setting}: no CA bundle at {_quoted(text)} (use true, false or a path)")
        if not path.is_dir():  # a directory of certificates is read lazily, a bundle file at once
            ssl.create_default_context(cafile=text)
    except OSError as exc:  # a name too long, no permission, not PEM (ssl.SSLError)
        reason = exc.strerror or str(exc)  # strerror: without the (maybe very long) file name
        raise ConfigError(f"{setting}: {_quoted(text)} is not a readable PEM CA bundle ({reason})") from None
    return text


def parse_timeout(setting: str, text: str | None) -> float:
    """Seconds per request: a number above 0 and at most 600; DEFAULT_TIMEOUT_S when unset."""
    if text is None:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{setting} must be a number of seconds, got {_quoted(text)}") from None
    if not 0 < value <= MAX_TIMEOUT_S:
        raise ConfigError(f"{setting} must be between 0 and {MAX_TIMEOUT_S:g} seconds, got {_quoted(text)}")
    return value


def _down_s(setting: str, text: str | None) -> float:
    if text is None:
        return DEFAULT_DOWN_S
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{setting} must be a number of seconds, got {_quoted(text)}") from None
    if not 0 <= value <= MAX_DOWN_S:
        raise ConfigError(f"{setting} must be from 0 (off) to {MAX_DOWN_S:g} seconds, got {_quoted(text)}")
    return value


def _access_file(text: str | None) -> Path | None:
    """The access file, which must exist (its content is checked when a page reads it: `app.access`)."""
    if text is None:
        return None
    path = Path(text)
    if not path.is_file():
        raise ConfigError(f"SEXTANT_ACCESS_FILE: no file at {_quoted(text)}")
    return path


def _spool_max(text: str | None) -> int:
    if text is None:
        return DEFAULT_SPOOL_MAX
    try:
        value = int(text)
    except ValueError:
        raise ConfigError(
            f"SEXTANT_ACCESS_SPOOL_MAX must be a whole number of events, got {_quoted(text)}"
        ) from None
    if value < 1:
        raise ConfigError(f"SEXTANT_ACCESS_SPOOL_MAX must be at least 1, got {_quoted(text)}")
    return value


def _reports_dir(text: str) -> Path:
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"SEXTANT_REPORTS_DIR is not a directory: {_quoted(text)}")
    return path


def _report_key(text: str | None) -> str | None:
    """The signing secret: long enough to be one (never quoted in a message)."""
    if text is not None and len(text) < MIN_REPORT_KEY_CHARS:
        raise ConfigError(
            f"SEXTANT_REPORT_KEY is too short to be a secret: use at least {MIN_REPORT_KEY_CHARS} characters"
        )
    return text


def _webhook(text: str | None) -> str | None:
    """An https (or, for a local receiver, http) URL. Its path is the secret: messages show the host only."""
    if text is None:
        return None
    parts = urlsplit(text)
    try:
        host = parts.hostname
    except ValueError:
        host = None
    if parts.scheme not in ("http", "https") or not host or any(ch.isspace() for ch in text):
        raise ConfigError("SEXTANT_SLACK_WEBHOOK_URL must be an http:// or https:// URL with a host")
    return text
