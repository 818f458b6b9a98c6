"""Data access for Sextant: live clients for Prometheus, OpenSearch, Jaeger and (optional) Alertmanager, or a
recorded snapshot.

Pages get a `Sources` bundle from `build_sources(current_config())` (cache it with `st.cache_resource`: the
clients hold connection pools and the snapshot is parsed once) and ask it for `now()` instead of reading the
clock, so the same code shows live data or replays a snapshot. Its `masker` is the one masking step
(`app.masking`) that loaders apply to whatever they read before it is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from app.config import BackendConfig, Config
from app.masking import Masker
from app.sources import deadline
from app.sources.deadline import budget_for
from app.sources.errors import BackendError, BackendUnavailable, QueryRejected, SnapshotMiss
from app.sources.stats import BackendHealth
from app.sources.unconfigured import NotConfiguredClient

__all__ = [
    "BackendError",
    "BackendUnavailable",
    "QueryRejected",
    "SnapshotMiss",
    "Sources",
    "build_sources",
]


if TYPE_CHECKING:
    # The clients are imported by `build_sources`, not here: a module that needs only `app.sources.errors`
    # or one client (`python -m app.slo status`: Prometheus's) does not load the others and pandas, and
    # `python -m app.sources.snapshot` must not find the snapshot module already imported.
    from app.sources._http import HttpOptions
    from app.sources.alertmanager import AlertmanagerClient
    from app.sources.jaeger import JaegerClient
    from app.sources.opensearch import OpenSearchClient
    from app.sources.prometheus import PrometheusClient
    from app.sources.snapshot import (
        SnapshotAlertmanagerClient,
        SnapshotJaegerClient,
        SnapshotOpenSearchClient,
        SnapshotPrometheusClient,
    )

    PrometheusSource: TypeAlias = PrometheusClient | SnapshotPrometheusClient | NotConfiguredClient
    OpenSearchSource: TypeAlias = OpenSearchClient | SnapshotOpenSearchClient | NotConfiguredClient
    JaegerSource: TypeAlias = JaegerClient | SnapshotJaegerClient | NotConfiguredClient
    AlertmanagerSource: TypeAlias = AlertmanagerClient | SnapshotAlertmanagerClient | NotConfiguredClient


def _no_alertmanager() -> NotConfiguredClient:
    return NotConfiguredClient("alertmanager")


@dataclass(frozen=True)
class Sources:
    """The four clients (live, replayed, or not configured: same methods) and where their data comes from.
    Alertmanager is optional: without it the Alerts page shows Prometheus's alerts only."""

    prometheus: PrometheusSource
    opensearch: OpenSearchSource
    jaeger: JaegerSource
    mode: Literal["live", "snapshot"]
    snapshot_recorded_at: datetime | None = None
    snapshot_problem: str | None = None  # why the snapshot cannot be read, in a sentence for the pages
    alertmanager: AlertmanagerSource = field(default_factory=_no_alertmanager)
    frozen_at: datetime | None = None  # a live "now" that does not move (`make snapshot` records at one)
    present_at: datetime | None = None  # when the backends' current answers were true (`present`)
    masker: Masker = field(default_factory=Masker)  # personal data out of every value read, before display

    def now(self) -> datetime:
        """The time pages should treat as "now": the recording time of a snapshot (so they ask the
        recorded questions), a recording's fixed time, else the current UTC time floored to the minute
        (so reruns within a minute ask the same questions and hit the cache), the same for a whole page
        run (`deadline.PageRun.minute_shown`)."""
        if self.mode == "snapshot" and self.snapshot_recorded_at is not None:
            return self.snapshot_recorded_at
        if self.frozen_at is not None:
            return self.frozen_at
        return self._clock()

    def present(self) -> datetime:
        """The backends' present: the instant their answers about "now" (Prometheus's /api/v1/alerts, which
        takes no time) were true. Live, the real clock's minute, whatever `now()` is frozen at (a week
        frozen at its end asks today's alerts); a recording declares the clock at its start (`present_at`,
        `app.record.recording`); a replay, when its answers were recorded: the demo's recording time, a
        frozen week's `frozen_at` (`app.report.frozen`), never its figures' instant."""
        if self.present_at is not None:
            return self.present_at
        if self.mode == "snapshot" and self.snapshot_recorded_at is not None:
            return self.snapshot_recorded_at  # the demo is recorded at the real time
        return self._clock()

    @staticmethod
    def _clock() -> datetime:
        run = deadline.current()
        return run.minute_shown(_clock_minute) if run is not None else _clock_minute()

    @property
    def cache_key(self) -> tuple[Any, ...]:
        """What a cached answer depends on besides the question: the mode and every backend's address."""
        return (
            self.mode,
            self.prometheus.url,
            self.opensearch.url,
            self.jaeger.url,
            self.alertmanager.url,
            self.snapshot_recorded_at,
        )

    @property
    def run_budget_s(self) -> float:
        """How long one page run may take: its slowest backend's timeout plus a little
        (`app.sources.deadline`); replayed and unconfigured clients answer at once."""
        return budget_for(getattr(client, "timeout", None) for client in self.clients())

    def clients(self) -> tuple[PrometheusSource, OpenSearchSource, JaegerSource, AlertmanagerSource]:
        return (self.prometheus, self.opensearch, self.jaeger, self.alertmanager)

    def health(self) -> list[BackendHealth]:
        """One probe per backend, in turn (run it in `fetch_all` to probe them concurrently)."""
        return [client.health() for client in self.clients()]

    def close(self) -> None:
        for client in self.clients():
            client.close()


def _http_options(backend: BackendConfig) -> HttpOptions:
    from app.sources._http import HttpOptions

    return HttpOptions(
        timeout=backend.timeout_s,
        down_s=backend.down_s,
        headers=backend.request_headers(),
        auth=backend.basic_auth(),
        verify=backend.verify,
    )


def build_sources(config: Config) -> Sources:
    """Live clients when any backend URL is configured, otherwise replay the snapshot file.

    A missing or unreadable snapshot does not raise: `snapshot_problem` says why (pages show it and stop),
    every call raises `SnapshotMiss` with the same sentence, and `health()` reports it.
    """
    if config.mode == "live":
        from app.sources.alertmanager import AlertmanagerClient
        from app.sources.jaeger import JaegerClient
        from app.sources.opensearch import OpenSearchClient
        from app.sources.prometheus import PrometheusClient

        p, o, j, a = config.prometheus, config.opensearch, config.jaeger, config.alertmanager
        return Sources(
            prometheus=PrometheusClient(p.url, org_id=config.prometheus_org_id, **_http_options(p))
            if p.url
            else NotConfiguredClient("prometheus"),
            opensearch=OpenSearchClient(o.url, **_http_options(o))
            if o.url
            else NotConfiguredClient("opensearch"),
            jaeger=JaegerClient(j.url, **_http_options(j)) if j.url else NotConfiguredClient("jaeger"),
            alertmanager=AlertmanagerClient(a.url, **_http_options(a)) if a.url else _no_alertmanager(),
            mode="live",
            masker=Masker(config.masking_key),
        )
    from app.sources import snapshot as snapshots

    recorded = snapshots.load_or_empty(config.snapshot_path)
    return Sources(
        prometheus=snapshots.SnapshotPrometheusClient(recorded),
        opensearch=snapshots.SnapshotOpenSearchClient(recorded),
        jaeger=snapshots.SnapshotJaegerClient(recorded),
        alertmanager=snapshots.SnapshotAlertmanagerClient(recorded),
        mode="snapshot",
        snapshot_recorded_at=recorded.recorded_at,
        snapshot_problem=recorded.problem,
        masker=Masker(config.masking_key),
    )


def _clock_minute() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)
