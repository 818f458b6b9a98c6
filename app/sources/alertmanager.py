"""Alertmanager client (API v2): the alerts it holds with their silences and inhibitions, and its status.

Alertmanager is optional: Prometheus's own `/api/v1/alerts` says what fires; Alertmanager adds who silenced
what (and until when) and which alert holds back another. Its answers are plain JSON lists or objects; an
error is a JSON string or plain text with a 4xx/5xx status, mapped like the other clients' errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.sources._http import BackendClient, json_or_none, status_error
from app.sources.errors import BackendError
from app.sources.stats import BackendHealth, probe, tracked

NAME = "alertmanager"


class AlertmanagerClient(BackendClient):
    """Read-only client for one Alertmanager."""

    name = NAME
    probe_path = "/-/healthy"

    @tracked
    def alerts(self) -> list[dict[str, Any]]:
        """Every alert Alertmanager holds, silenced and inhibited ones included: `labels`, `annotations`,
        `startsAt`, `endsAt`, `fingerprint` and `status` (`state`, `silencedBy`, `inhibitedBy`)."""
        params = {"active": "true", "silenced": "true", "inhibited": "true", "unprocessed": "true"}
        return [dict(a) for a in self._call("/api/v2/alerts", params) if isinstance(a, Mapping)]

    @tracked
    def silences(self) -> list[dict[str, Any]]:
        """Every silence, expired ones included: `id`, `matchers`, `startsAt`, `endsAt`, `createdBy`,
        `comment` and `status.state` (active, pending, expired)."""
        return [dict(s) for s in self._call("/api/v2/silences") if isinstance(s, Mapping)]

    @tracked
    def status(self) -> dict[str, Any]:
        """`versionInfo`, `uptime` and the running `config.original` (its inhibit rules among them)."""
        answer = self._call("/api/v2/status")
        if not isinstance(answer, Mapping):
            raise BackendError(NAME, "/api/v2/status did not answer with a JSON object")
        return dict(answer)

    def health(self) -> BackendHealth:
        return probe(NAME, self.url, self.status, lambda s: (s.get("versionInfo") or {}).get("version"))

    def _call(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        response = self._http.request("GET", path, params=params)
        body = json_or_none(response)
        if not response.is_success:
            message = body if isinstance(body, str) and body.strip() else None
            raise status_error(NAME, response, message)
        if body is None:
            raise BackendError(NAME, f"{path} did not answer with JSON", response.status_code)
        if path != "/api/v2/status" and not isinstance(body, list):
            raise BackendError(NAME, f"{path} did not answer with a JSON list", response.status_code)
        return body
