"""Storage and retention on the Data sources page: index families, Jaeger's storage, the real stack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from app import retention
from app.config import load_config
from app.sources import build_sources
from app.sources.cache import Outcome, ResultCache
from app.sources.errors import QueryRejected
from app.sources.opensearch import SearchResult, hits_frame

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("index", "family"),
    [
        ("logs-2026.11.06", "logs-*"),
        ("audit-2026.11", "audit-*"),
        ("jaeger-span-2026-11-06", "jaeger-span-*"),
        ("incidents", "incidents"),
        ("sextant-sources-it-1a2b3c4d", "sextant-sources-it-1a2b3c4d"),
    ],
)
def test_dated_indices_fall_into_their_family(index, family):
    assert retention.family(index) == family


def ms(day: int) -> float:
    return datetime(2026, 11, day, tzinfo=UTC).timestamp() * 1000


def test_index_table_sums_sizes_and_takes_the_widest_dates():
    cat = [
        {"index": "logs-2026.11.06", "store.size": "100", "docs.count": "999"},
        {"index": "logs-2026.11.07", "store.size": "50", "docs.count": "999"},
        {"index": "jaeger-span-2026-11-07", "store.size": "7", "docs.count": "999"},
    ]
    ranges = SearchResult(
        hits=hits_frame([]),
        aggregations={
            "index": {
                "buckets": [
                    {"key": "logs-2026.11.06", "doc_count": 10, "min @timestamp": {"value": ms(6)},
                     "max @timestamp": {"value": ms(6) + 1000}},
                    {"key": "logs-2026.11.07", "doc_count": 5, "min @timestamp": {"value": ms(7)},
                     "max @timestamp": {"value": ms(7) + 5000}},
                    {"key": "jaeger-span-2026-11-07", "doc_count": 3, "min startTimeMillis": {"value": ms(7)},
                     "max startTimeMillis": {"value": None}},
                ]
            }
        },
        total=18,
    )  # fmt: skip
    table = retention.index_table(cat, ranges).set_index("family")
    logs = table.loc["logs-*"]
    assert (logs["indices"], logs["documents"], logs["size_bytes"]) == (2, 15, 150)
    assert logs["oldest"] == pd.Timestamp(ms(6), unit="ms", tz="UTC")
    assert logs["newest"] == pd.Timestamp(ms(7) + 5000, unit="ms", tz="UTC")
    spans = table.loc["jaeger-span-*"]
    assert spans["documents"] == 3  # top-level documents, not the cat's Lucene documents
    assert pd.isna(spans["newest"])  # no date reported: left empty, not made up


def test_without_jaeger_indices_the_storage_is_said_to_be_unseen_not_guessed():
    empty = Outcome(SearchResult(hits=hits_frame([]), aggregations={}, total=0))
    storage = retention.jaeger_storage(empty, None)
    assert storage is not None and storage.kind.startswith("not visible to Sextant")
    assert storage.oldest_trace_id is None and storage.served is None
    failed = Outcome(None, QueryRejected("opensearch", "no"))
    assert retention.jaeger_storage(failed, None) is None


def test_the_oldest_span_names_the_trace_and_whether_jaeger_serves_it():
    hit = {"_id": "x", "_source": {"traceID": "ab12", "startTimeMillis": ms(6)}}
    spans = Outcome(SearchResult(hits=hits_frame([hit]), aggregations={}, total=1))
    served = retention.jaeger_storage(spans, Outcome({"trace": "ab12"}))
    assert served is not None and served.kind.startswith("OpenSearch")
    assert (served.oldest_trace_id, served.oldest_trace_at, served.served) == (
        "ab12",
        datetime(2026, 11, 6, tzinfo=UTC),
        True,
    )
    lost = retention.jaeger_storage(spans, Outcome(None, QueryRejected("jaeger", "trace not found")))
    assert lost is not None and lost.served is False


@pytest.mark.integration
def test_the_stack_keeps_sixty_days_of_metrics_and_thirty_of_logs_and_traces(live_stack, monkeypatch):
    monkeypatch.setenv("SEXTANT_ALERTMANAGER_URL", live_stack.alertmanager_url)
    sources = build_sources(
        load_config(
            {
                "SEXTANT_PROMETHEUS_URL": live_stack.prometheus_url,
                "SEXTANT_OPENSEARCH_URL": live_stack.opensearch_url,
                "SEXTANT_JAEGER_URL": live_stack.jaeger_url,
                "SEXTANT_PROMETHEUS_TIMEOUT": "30",
                "SEXTANT_OPENSEARCH_TIMEOUT": "30",
            }
        )
    )
    now = sources.now()
    kept = retention.load(sources, now, ResultCache())
    assert kept.problems == []
    history = live_stack.anchor - timedelta(days=30)
    assert kept.prometheus is not None and kept.prometheus.retention == "60d"
    assert kept.prometheus.oldest_sample is not None
    # The SLO tiles (app.slo.backfill) reach two hours before the history, for the periods' edge pieces.
    assert history - timedelta(hours=2) <= kept.prometheus.oldest_sample <= history + timedelta(hours=1)
    table = kept.indices.set_index("family")
    logs = table.loc["logs-*"]
    assert history <= logs["oldest"] <= history + timedelta(minutes=5)
    assert logs["newest"] <= now + timedelta(minutes=1)
    assert table.loc["jaeger-span-*", "documents"] > 0
    jaeger = kept.jaeger
    assert jaeger is not None and jaeger.kind.startswith("OpenSearch") and jaeger.served is True
    assert jaeger.oldest_trace_at is not None
    assert history <= jaeger.oldest_trace_at <= history + timedelta(hours=12)
