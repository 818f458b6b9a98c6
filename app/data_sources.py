"""What the Data sources page shows: each backend's address, reachability, version and recent calls (its
storage and retention: `app.retention`)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from app.sources import Sources
from app.sources.unconfigured import NotConfiguredClient


@dataclass(frozen=True)
class BackendStatus:
    name: str
    url: str
    reachable: bool
    version: str | None
    probe_latency_s: float | None
    probe_error: str | None
    probe_error_detail: str | None
    calls: int
    failures: int
    last_query_latency_s: float | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    configured: bool = True  # False: a backend left without a URL

    @property
    def state(self) -> str:
        """One verdict for the backend: failing when the probe fails, attention when it answers but the
        last call made to it failed, ok otherwise (older failures are history, shown but not alarming);
        a backend that is not configured is "no data", never failing nor ok."""
        if not self.configured:
            return "no data"
        if not self.reachable:
            return "failing"
        return "attention" if self.last_call_failed else "ok"

    @property
    def last_call_failed(self) -> bool:
        return self.last_error_at is not None and (
            self.last_success_at is None or self.last_error_at > self.last_success_at
        )

    @property
    def verdict(self) -> str:
        """The state in words."""
        return {
            "no data": "Not configured",
            "failing": "Not answering",
            "attention": "Answers, but its last call failed",
            "ok": "Working",
        }[self.state]


def load(sources: Sources) -> list[BackendStatus]:
    """Probe the backends at once (a probe never raises) and join each with its call record."""
    clients = sources.clients()
    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        healths = list(pool.map(lambda client: client.health(), clients))
    statuses = []
    for client, health in zip(clients, healths, strict=True):
        stats = client.stats.snapshot()
        statuses.append(
            BackendStatus(
                name=health.name,
                url=health.url,
                reachable=health.reachable,
                version=health.version,
                probe_latency_s=health.latency_s,
                probe_error=health.error,
                probe_error_detail=health.detail,
                calls=stats.calls,
                failures=stats.failures,
                last_query_latency_s=stats.last_latency_s,
                last_success_at=stats.last_success_at,
                last_error=stats.last_error,
                last_error_at=stats.last_error_at,
                configured=not isinstance(client, NotConfiguredClient),
            )
        )
    return statuses
