"""Request counters read from the backends themselves, for `make load` (bench/load.py).

Each counter is a running total kept by the backend; the load run reads it before and after a phase and
divides the difference by the phase's length. Counting at the backends (not in Sextant) shows what the
crowd of sessions really costs them, cache or no cache. Requests this module sends to read the counters
are left out of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from stack.addresses import stack_url

LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class BackendUrls:
    prometheus: str
    opensearch: str
    jaeger: str
    jaeger_metrics: str  # Jaeger's own telemetry (stack/config/jaeger.yaml.tmpl), not its query API

    @classmethod
    def from_env(cls) -> BackendUrls:
        """`SEXTANT_<B>_URL` when set, else the running stack's (`stack.addresses`)."""

        def url(name: str) -> str:
            found = stack_url(name)
            if not found:
                raise SystemExit(f"{name} is not set and no stack was started (make stack-up)")
            return found.rstrip("/")

        return cls(
            prometheus=url("SEXTANT_PROMETHEUS_URL"),
            opensearch=url("SEXTANT_OPENSEARCH_URL"),
            jaeger=url("SEXTANT_JAEGER_URL"),
            jaeger_metrics=url("SEXTANT_JAEGER_METRICS_URL"),
        )


@dataclass(frozen=True)
class RequestCounter:
    name: str  # what is counted
    source: str  # where the count comes from
    read: Callable[[httpx.Client], float]


def sum_samples(text: str, metric: str, keep: Callable[[dict[str, str]], bool]) -> float:
    """Sum of the samples of `metric` in Prometheus text format whose labels pass `keep`."""
    total = 0.0
    found = False
    for line in text.splitlines():
        if not line.startswith(metric + "{") and not line.startswith(metric + " "):
            continue
        found = True
        labels_text, _, value = line.rpartition(" ")
        if keep(dict(LABEL.findall(labels_text))):
            total += float(value)
    if not found:
        raise ValueError(f"no {metric} in the metrics")
    return total


def counters(urls: BackendUrls) -> list[RequestCounter]:
    jaeger_port = str(urlsplit(urls.jaeger).port or 80)

    def prometheus_api(client: httpx.Client) -> float:
        text = _get(client, f"{urls.prometheus}/metrics").text
        # Only its HTTP API: the scrapes of its own /metrics (and ours) are not Sextant's.
        return sum_samples(
            text,
            "prometheus_http_requests_total",
            lambda labels: labels.get("handler", "").startswith("/api/"),
        )

    def opensearch_rest(client: httpx.Client) -> float:
        nodes = _get(client, f"{urls.opensearch}/_nodes/usage").json()["nodes"].values()
        ours = {"nodes_usage_action", "nodes_stats_action"}
        return sum(n for node in nodes for action, n in node["rest_actions"].items() if action not in ours)

    def opensearch_searches(client: httpx.Client) -> float:
        stats = _get(client, f"{urls.opensearch}/_nodes/stats/indices/search").json()["nodes"].values()
        return sum(node["indices"]["search"]["request"]["took"]["total"] for node in stats)

    def jaeger_api(client: httpx.Client) -> float:
        try:
            text = _get(client, urls.jaeger_metrics).text
        except httpx.ConnectError as error:
            raise ValueError(
                f"nothing at {urls.jaeger_metrics} ({error}): a Jaeger started before its config had"
                " `service.telemetry.metrics` needs a restart (stack/down.sh jaeger opensearch; stack/up.sh)"
            ) from None
        # The query service's HTTP server only: not the health check, OTLP or metrics listeners.
        return sum_samples(
            text,
            "http_server_request_duration_seconds_count",
            lambda labels: labels.get("server_port") == jaeger_port,
        )

    return [
        RequestCounter(
            "Prometheus API requests",
            "prometheus_http_requests_total on its /metrics, handlers /api/*",
            prometheus_api,
        ),
        RequestCounter(
            "OpenSearch REST requests",
            "_nodes/usage rest_actions, every REST action but the usage and stats reads",
            opensearch_rest,
        ),
        RequestCounter(
            "OpenSearch searches",
            "_nodes/stats indices.search.request.took.total: search requests, once each, not per shard",
            opensearch_searches,
        ),
        RequestCounter(
            "Jaeger API requests",
            "http_server_request_duration_seconds_count on Jaeger's own /metrics, its query port only",
            jaeger_api,
        ),
    ]


def read_all(client: httpx.Client, wanted: list[RequestCounter]) -> dict[str, float | str]:
    """Each counter's value, or why it could not be read (a text, never a number)."""
    values: dict[str, float | str] = {}
    for counter in wanted:
        try:
            values[counter.name] = counter.read(client)
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            values[counter.name] = f"{type(error).__name__}: {error}"
    return values


def _get(client: httpx.Client, url: str) -> httpx.Response:
    response = client.get(url)
    response.raise_for_status()
    return response
