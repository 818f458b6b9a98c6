"""httpx plumbing shared by the three live clients.

One pooled `httpx.Client` per backend (httpx clients are safe to share between threads), transport
failures turned into `BackendUnavailable`, and a fallback mapping for error answers that are not in the
backend's own JSON format (a proxy's 502 page, Prometheus's plain-text 404).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from app.sources.errors import BackendError, BackendUnavailable, QueryRejected
from app.sources.stats import CallStats

Auth = tuple[str, str] | httpx.Auth | None
Verify = bool | str | ssl.SSLContext


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
    """A base URL, its pooled client, and requests that fail only with `BackendError`."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        timeout: float,
        headers: Mapping[str, str] | None = None,
        auth: Auth = None,
        verify: Verify = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.name = name
        self.url = redact_url(base_url.rstrip("/"))
        self.timeout = timeout
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers=dict(headers or {}),
            auth=auth,
            verify=ssl_verify(verify),
            transport=transport,
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        data: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        try:
            return self._client.request(method, path, params=params, data=data, json=json)  # type: ignore[arg-type]
        except httpx.TimeoutException as exc:
            raise BackendUnavailable(
                self.name, f"no answer within {self.timeout:g} s", error_type="timeout"
            ) from exc
        except httpx.TransportError as exc:
            raise BackendUnavailable(
                self.name,
                f"cannot reach {self.url}: {str(exc) or type(exc).__name__}",
                error_type="connection",
            ) from exc

    def close(self) -> None:
        self._client.close()


class BackendClient:
    """What every live client has: one pooled HTTP layer, its backend's name, its address (without any
    password) and the record of its calls for the Data sources page."""

    name: str  # set by each client class

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        auth: Auth = None,
        verify: Verify = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = HttpBackend(
            self.name,
            base_url,
            timeout=timeout,
            headers=headers,
            auth=auth,
            verify=verify,
            transport=transport,
        )
        self.url = self._http.url
        self.stats = CallStats()

    def close(self) -> None:
        self._http.close()
