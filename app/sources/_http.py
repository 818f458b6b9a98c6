"""httpx plumbing shared by the three live clients.

One pooled `httpx.Client` per backend (httpx clients are safe to share between threads), transport
failures turned into `BackendUnavailable`, and a fallback mapping for error answers that are not in the
backend's own JSON format (a proxy's 502 page, Prometheus's plain-text 404).

Every request first asks the backend's circuit breaker (`app.sources.breaker`: down backends fail at once)
and the page run it belongs to (`app.sources.deadline`: it is sent with min(timeout, time left), and not at
all when the backend already timed out in this run).
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Mapping
from typing import Any, TypedDict
from urllib.parse import urlsplit, urlunsplit

import httpx
from typing_extensions import Unpack  # typing's own needs Python 3.12

from app.config import DEFAULT_DOWN_S, DEFAULT_TIMEOUT_S
from app.sources import deadline
from app.sources.breaker import Breaker
from app.sources.errors import BackendError, BackendUnavailable, QueryRejected
from app.sources.stats import CallStats

Auth = tuple[str, str] | httpx.Auth | None
Verify = bool | str | ssl.SSLContext


class HttpOptions(TypedDict, total=False):
    """How to talk to one backend, given to every client and its HTTP layer by keyword (declared once)."""

    timeout: float  # seconds per request (default 10)
    headers: Mapping[str, str] | None
    auth: Auth
    verify: Verify
    transport: httpx.BaseTransport | None  # a test's stand-in for the network
    down_s: float  # how long a backend that timed out or refused counts as down (app.sources.breaker)


def redact_url(url: str) -> str:
    """The URL without any user:password part, for display."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


def ssl_verify(verify: Verify) -> bool | ssl.SSLContext:
    """`True`/`False`, or a CA bundle file or directory turned into an SSL context (httpx 0.28 deprecates
    passing a path to `verify=`)."""
    if isinstance(verify, bool | ssl.SSLContext):
        return verify
    if os.path.isdir(verify):
        return ssl.create_default_context(capath=verify)
    return ssl.create_default_context(cafile=verify)


def json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def status_error(
    backend: str, response: httpx.Response, message: str | None = None, error_type: str | None = None
) -> BackendError:
    """Map an HTTP error status to the error class a page should react to."""
    status = response.status_code
    if message is None:
        first_line = response.text.strip().splitlines()[0] if response.text.strip() else ""
        message = first_line or f"HTTP {status} {response.reason_phrase}".strip()
    if status == 429 or status >= 500:
        return BackendUnavailable(backend, message, status, error_type)
    if status in (400, 404, 422):
        return QueryRejected(backend, message, status, error_type)
    return BackendError(backend, message, status, error_type)


class HttpBackend:
    """A base URL, its pooled client, its circuit breaker, and requests that fail only with `BackendError`."""

    def __init__(
        self, name: str, base_url: str, *, probe_path: str = "/", **options: Unpack[HttpOptions]
    ) -> None:
        self.name = name
        self.url = redact_url(base_url.rstrip("/"))
        self.timeout = options.get("timeout", DEFAULT_TIMEOUT_S)
        self.probe_path = probe_path
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=_timeouts(self.timeout),
            headers=dict(options.get("headers") or {}),
            auth=options.get("auth"),
            verify=ssl_verify(options.get("verify", True)),
            transport=options.get("transport"),
        )
        self.breaker = Breaker(name, options.get("down_s", DEFAULT_DOWN_S), self._probe)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        self.breaker.check()
        run = deadline.current()
        timeout = self.timeout
        if run is not None:
            earlier = run.timed_out(self.name)
            if earlier is not None:
                raise BackendUnavailable(self.name, earlier.message, error_type=earlier.error_type)
            timeout = min(timeout, run.remaining())
            if timeout <= 0:
                raise BackendUnavailable(
                    self.name, "not asked: the page ran out of time", error_type="deadline"
                )
        ends = time.monotonic() + timeout
        try:
            sent = self._client.build_request(
                method,
                path,
                params=params,
                data=data,
                json=json,
                content=content,
                headers=headers,
                timeout=_timeouts(timeout),
            )
            return _read_by(self._client.send(sent, stream=True), ends)
        except httpx.TimeoutException as exc:
            error = BackendUnavailable(self.name, f"no answer within {timeout:.3g} s", error_type="timeout")
            if run is not None:
                run.note_timeout(self.name, error)
            if timeout >= self.timeout:  # a request cut short by the page's deadline says nothing of it
                self.breaker.trip(error)
            raise error from exc
        except httpx.TransportError as exc:
            error = BackendUnavailable(
                self.name,
                f"cannot reach {self.url}: {str(exc) or type(exc).__name__}",
                error_type="connection",
            )
            if isinstance(exc, httpx.ConnectError):  # not a reset mid-answer: nothing listens, or no route
                self.breaker.trip(error)
            raise error from exc

    def _probe(self) -> None:
        """The breaker's probe: any HTTP answer means the backend is back (an error status is the page's
        business, not the breaker's)."""
        try:
            self._client.get(self.probe_path)
        except httpx.TransportError as exc:
            raise BackendUnavailable(self.name, str(exc) or type(exc).__name__) from exc

    def close(self) -> None:
        self.breaker.stop()
        self._client.close()


def _read_by(response: httpx.Response, ends: float) -> httpx.Response:
    """The whole answer, read by `ends` (monotonic), or `httpx.ReadTimeout`.

    httpx's read timeout bounds each read, not the answer: a backend that trickles a few bytes a second
    never trips it, and one request would hold a page for minutes. So the body is read here, and reading
    stops at the deadline (a read in progress may still take up to the read timeout)."""
    if response.is_stream_consumed:  # a test transport's answer, already whole
        return response
    try:
        raw = bytearray()
        for chunk in response.iter_raw():
            raw += chunk
            if time.monotonic() > ends:
                raise httpx.ReadTimeout("the answer did not arrive in time", request=response.request)
    finally:
        response.close()
    # The raw bytes with their headers: httpx decodes them (Content-Encoding) as it would have.
    return httpx.Response(
        response.status_code, headers=response.headers, content=bytes(raw), request=response.request
    )


def _timeouts(seconds: float) -> httpx.Timeout:
    return httpx.Timeout(seconds, connect=min(seconds, 5.0))


class BackendClient:
    """What every live client has: one pooled HTTP layer, its backend's name, its address (without any
    password) and the record of its calls for the Data sources page."""

    name: str  # set by each client class
    probe_path: str  # its cheapest request, for the circuit breaker's probe

    def __init__(self, base_url: str, **options: Unpack[HttpOptions]) -> None:
        self._http = HttpBackend(self.name, base_url, probe_path=self.probe_path, **options)
        self.url = self._http.url
        self.timeout = self._http.timeout
        self.stats = CallStats()

    def close(self) -> None:
        self._http.close()
