"""Typed errors raised by every data source, live or replayed.

Pages catch `BackendError` and show `str(error)`: the message is the backend's own words (Prometheus
`error`, OpenSearch `reason`, Jaeger `errors[].msg`), shortened and stripped of control characters so it is
safe to put on screen. The subclasses tell a page what to say next: *the backend is down* versus *the
query is wrong* versus *this view was not recorded in the snapshot*.
"""

from __future__ import annotations

import re
from datetime import datetime

BACKEND_TITLES = {
    "prometheus": "Prometheus",
    "opensearch": "OpenSearch",
    "jaeger": "Jaeger",
    "alertmanager": "Alertmanager",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
MAX_MESSAGE_CHARS = 300


def short_message(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """One line, at most `limit` characters: backend messages can carry whole stack traces or bodies."""
    line = _CONTROL.sub(" ", text).strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


class BackendError(Exception):
    """A call to a backend failed; `message` is what the backend said."""

    def __init__(
        self, backend: str, message: str, status: int | None = None, error_type: str | None = None
    ) -> None:
        self.backend = backend
        self.message = short_message(message) or "unknown error"
        self.status = status
        self.error_type = error_type
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.backend}: {self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(backend={self.backend!r}, message={self.message!r}, "
            f"status={self.status!r}, error_type={self.error_type!r})"
        )


class BackendUnavailable(BackendError):
    """No usable answer: connection refused, DNS, TLS, timeout, or the backend said it is overloaded."""


class BackendDown(BackendUnavailable):
    """Failed at once, unasked: the backend's circuit breaker counts it as down since `since` (UTC) because
    of `reason`, its last timeout or failed connection (`app.sources.breaker`)."""

    def __init__(self, backend: str, since: datetime, reason: BackendError) -> None:
        super().__init__(
            backend,
            f"down since {since:%H:%M:%S} UTC ({reason.message}); checking again in the background",
            error_type="down",
        )
        self.since = since
        self.reason = reason


class StillLoading(BackendUnavailable):
    """Not an answer yet: the page drew without waiting for this fetch, which goes on in the background
    and fills its panels in when it lands (`app.sources.concurrent.fetch_all`). Who is slow is not known
    here, so it names no backend: its text reads on its own."""

    def __init__(self) -> None:
        super().__init__("sextant", "still loading: shown as soon as it arrives", error_type="loading")

    def __str__(self) -> str:
        return self.message


class QueryRejected(BackendError):
    """The backend understood the request and refused it (bad PromQL, unknown index, bad trace id…)."""


class SnapshotMiss(BackendError):
    """Snapshot mode: this exact call was not recorded, so there is nothing to replay. `detail` names the
    call (for an expander: a banner shows words, never query text)."""

    def __init__(self, backend: str, message: str, detail: str = "") -> None:
        super().__init__(backend, message)
        self.detail = detail


NOT_CONFIGURED = "not_configured"  # the error_type of every call to a backend left without a URL


def not_configured(backend: str) -> BackendUnavailable:
    """What every call to a backend left without a URL raises (`app.sources.unconfigured`): its message is
    what to do about it."""
    return BackendUnavailable(
        backend, f"set SEXTANT_{backend.upper()}_URL to show these panels", error_type=NOT_CONFIGURED
    )


def failed_backend(error: BackendError | str) -> str:
    """How every banner, note and tile names a backend whose figures `error` kept from a page (or the
    error's text, `str(error)`, as an SLO status keeps it): "OpenSearch is not answering", but "OpenSearch is
    not configured" when no URL names it, since nobody asked it anything."""
    if isinstance(error, BackendError):
        backend, unset = error.backend, error.error_type == NOT_CONFIGURED
    else:
        backend, _, message = error.partition(": ")
        unset = message == not_configured(backend).message
    title = BACKEND_TITLES.get(backend, backend)
    return f"{title} is not configured" if unset else f"{title} is not answering"


# What a transport failure's own text says (lower case) → what a banner says of it. The first match wins.
_TRANSPORT_WORDS = (
    (("connection refused",), "connection refused"),
    (
        ("connection reset", "server disconnected", "peer closed", "broken pipe", "connection aborted"),
        "the connection was cut",
    ),
    (
        ("name or service not known", "name resolution", "nodename nor servname", "getaddrinfo"),
        "its host name is not known",
    ),
    (("certificate",), "its TLS certificate is not trusted"),
    (("ssl", "tls"), "the TLS handshake failed"),
    (("network is unreachable", "no route to host"), "there is no network route to it"),
)
_REACHING = re.compile(r"cannot reach \S+: ")


def plain_reason(error: BackendError) -> str:
    """What went wrong in a few plain words, for a banner: a failed connection as "connection refused" or
    "the connection was cut", never its URL or errno (the error's `message` keeps those, for a Details
    expander); a backend down for a while as the reason and since when. Other errors already read as words
    (a timeout's "no answer within 10 s", the backend's own message): their message."""
    if isinstance(error, BackendDown):
        since = f"{error.since:%H:%M:%S} UTC"
        return f"{plain_reason(error.reason)}; down since {since}, checked again in the background"
    if error.error_type != "connection":
        return error.message
    return _connection_words(error.message)


def in_plain_words(message: str) -> str:
    """An error's text as a note beside the page's banner may say it: a failed connection ("cannot reach
    http://…: [Errno 111] Connection refused", or a breaker's "down since … (cannot reach …)") in a few plain
    words, "connection refused", without its URL or errno; any other text as it is."""
    return _connection_words(message) if _REACHING.search(message) else message


def _connection_words(message: str) -> str:
    """A failed connection's message ("cannot reach http://…: [Errno 111] Connection refused") in a few
    plain words ("connection refused"), without its URL or errno."""
    said = _REACHING.sub("", message, count=1).lower()
    return next(
        (words for clues, words in _TRANSPORT_WORDS if any(clue in said for clue in clues)),
        "the connection failed",
    )
