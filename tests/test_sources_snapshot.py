"""Snapshot recording and replay, file checksum, and the Sources bundle."""

from __future__ import annotations

import gzip
import inspect
import json
from datetime import UTC, datetime, timedelta

import httpx
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from app.config import load_config
from app.sources import Sources, build_sources
from app.sources import snapshot as snap
from app.sources.alertmanager import AlertmanagerClient
from app.sources.errors import BackendUnavailable, QueryRejected, SnapshotMiss
from app.sources.jaeger import JaegerClient
from app.sources.opensearch import OpenSearchClient
from app.sources.prometheus import PrometheusClient
from app.sources.unconfigured import NotConfiguredClient

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
T0_US = int(NOW.timestamp()) * 1_000_000

JAEGER_TRACE = {
    "traceID": "abc",
    "spans": [
        {
            "traceID": "abc",
            "spanID": "s1",
            "operationName": "POST /api/upload",
            "references": [],
            "startTime": T0_US,
            "duration": 1500,
            "tags": [{"key": "tenant", "value": "acme"}, {"key": "error", "value": True}],
            "processID": "p1",
        }
    ],
    "processes": {"p1": {"serviceName": "gateway"}},
}


def prometheus_handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path.endswith("/query_range"):
        return httpx.Response(
            200,
            json={
                "status": "success",
                "data": {
                    "resultType": "matrix",
                    "result": [
                        {
                            "metric": {"service": "gateway"},
                            "values": [[1709294400, "1.5"], [1709294460, "NaN"]],
                        },
                        {"metric": {"route": "/x"}, "values": [[1709294400, "2"]]},
                    ],
                },
            },
        )
    if path.endswith("/query"):
        query = dict(httpx.QueryParams(request.content.decode()))["query"]
        if query == "bad(":
            return httpx.Response(
                400, json={"status": "error", "errorType": "bad_data", "error": "parse error"}
            )
        return httpx.Response(
            200,
            json={
                "status": "success",
                "warnings": ["careful"],
                "data": {
                    "resultType": "vector",
                    "result": [{"metric": {"a": "1"}, "value": [1709294400, "3"]}],
                },
            },
        )
    if path.endswith("/buildinfo"):
        return httpx.Response(200, json={"status": "success", "data": {"version": "2.42.0"}})
    if path.endswith("/runtimeinfo"):
        return httpx.Response(200, json={"status": "success", "data": {"storageRetention": "60d"}})
    return httpx.Response(404, text="404 page not found")


AM_ALERT = {
    "labels": {"alertname": "BackupOlderThanRPO", "target": "documents"},
    "annotations": {"runbook_url": "runbooks/backup-older-than-rpo.md"},
    "startsAt": "2024-03-01T11:00:00Z",
    "fingerprint": "f1",
    "status": {"state": "suppressed", "silencedBy": ["s-1"], "inhibitedBy": []},
}


def alertmanager_handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/api/v2/alerts":
        return httpx.Response(200, json=[AM_ALERT])
    if path == "/api/v2/silences":
        return httpx.Response(200, json=[{"id": "s-1", "createdBy": "amy", "comment": "known"}])
    return httpx.Response(200, json={"versionInfo": {"version": "0.25.0"}, "config": {"original": ""}})


def opensearch_handler(request: httpx.Request) -> httpx.Response:
    if request.url.path == "/":
        return httpx.Response(200, json={"version": {"number": "2.19.6"}})
    if request.url.path.startswith("/_cat/indices"):
        return httpx.Response(200, json=[{"index": "logs-2024.03.01", "store.size": "1234"}])
    return httpx.Response(
        200,
        json={
            "took": 1,
            "timed_out": True,
            "_shards": {"failed": 1, "failures": [{"reason": {"reason": "shard lost"}}]},
            "hits": {
                "total": {"value": 1, "relation": "eq"},
                "hits": [{"_id": "d1", "_source": {"msg": "hello", "http": {"status": 500}}}],
            },
            "aggregations": {"t": {"buckets": [{"key": "acme", "doc_count": 1}]}},
        },
    )


def jaeger_handler(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/api/services":
        return httpx.Response(200, json={"data": ["gateway", "filing"], "errors": None})
    if path == "/api/traces":
        return httpx.Response(200, json={"data": [JAEGER_TRACE], "errors": [{"code": 500, "msg": "partial"}]})
    return httpx.Response(200, json={"data": [JAEGER_TRACE], "errors": None})


@pytest.fixture
def live():
    return Sources(
        prometheus=PrometheusClient("http://p", transport=httpx.MockTransport(prometheus_handler)),
        opensearch=OpenSearchClient("http://o", transport=httpx.MockTransport(opensearch_handler)),
        jaeger=JaegerClient("http://j", transport=httpx.MockTransport(jaeger_handler)),
        alertmanager=AlertmanagerClient("http://a", transport=httpx.MockTransport(alertmanager_handler)),
        mode="live",
    )


def exercise(sources: Sources) -> dict:
    """The same calls a page would make, with positional and keyword spellings mixed."""
    out = {
        "instant": sources.prometheus.instant("sum(up)", NOW),
        "range": sources.prometheus.range("rate(x[5m])", NOW - timedelta(hours=1), end=NOW),
        "buildinfo": sources.prometheus.buildinfo(),
        "search": sources.opensearch.search("logs-*", {"query": {"term": {"tenant": "acme"}}}),
        "info": sources.opensearch.info(),
        "services": sources.jaeger.services(),
        "traces": sources.jaeger.search(
            "gateway", tags={"tenant": "acme"}, start=NOW - timedelta(hours=1), end=NOW
        ),
        "trace": sources.jaeger.trace("abc"),
        "runtimeinfo": sources.prometheus.runtimeinfo(),
        "indices": sources.opensearch.indices("logs-*"),
        "am_alerts": sources.alertmanager.alerts(),
        "silences": sources.alertmanager.silences(),
        "am_status": sources.alertmanager.status(),
    }
    with pytest.raises(QueryRejected, match="parse error"):
        sources.prometheus.instant("bad(", at=NOW)
    return out


def record(live: Sources, path) -> dict:
    recorder = snap.Recorder()
    recording = Sources(
        prometheus=recorder.wrap(live.prometheus),
        opensearch=recorder.wrap(live.opensearch),
        jaeger=recorder.wrap(live.jaeger),
        alertmanager=recorder.wrap(live.alertmanager),
        mode="live",
    )
    answers = exercise(recording)
    assert len(recorder) == 14
    recorder.save(
        path, recorded_at=NOW, anchor=NOW - timedelta(hours=1), time_range=(NOW - timedelta(days=30), NOW)
    )
    return answers


def test_round_trip_replays_identical_results(live, tmp_path):
    path = tmp_path / "s.json.gz"
    original = record(live, path)
    assert snap.verify(path)
    sources = build_sources(load_config({"SEXTANT_SNAPSHOT": str(path)}))
    assert sources.mode == "snapshot" and sources.now() == NOW
    replayed = exercise(sources)

    for name in ("instant", "range"):
        assert_frame_equal(replayed[name].frame, original[name].frame)
        assert replayed[name].warnings == original[name].warnings
    assert str(replayed["range"].frame["timestamp"].dtype) == "datetime64[ns, UTC]"
    assert replayed["range"].frame["value"].isna().sum() == 1
    assert replayed["buildinfo"] == original["buildinfo"]
    assert_frame_equal(replayed["search"].hits, original["search"].hits)
    assert replayed["search"].aggregations == original["search"].aggregations
    assert replayed["search"].warnings == original["search"].warnings
    assert replayed["info"] == original["info"]
    assert replayed["services"] == original["services"]
    assert list(replayed["traces"]) == list(original["traces"])
    assert replayed["traces"].warnings == ("partial",)
    assert isinstance(replayed["traces"][0].services, tuple)
    assert_frame_equal(replayed["trace"].spans, original["trace"].spans)
    for name in ("runtimeinfo", "indices", "am_alerts", "silences", "am_status"):
        assert replayed[name] == original[name]
    assert replayed["am_alerts"][0]["status"]["silencedBy"] == ["s-1"]
    assert sources.alertmanager.health().version == "0.25.0"

    health = sources.prometheus.health()
    assert (
        health.reachable
        and health.version == "2.42.0"
        and health.url == "replayed from the snapshot s.json.gz"
    )
    assert sources.opensearch.health().version == "2.19.6"
    assert sources.jaeger.health().version is None
    assert sources.prometheus.stats.snapshot().calls == 5  # four answers and one recorded error


def test_unrecorded_call_is_a_snapshot_miss_naming_the_query(live, tmp_path):
    path = tmp_path / "s.json.gz"
    record(live, path)
    sources = build_sources(load_config({"SEXTANT_SNAPSHOT": str(path)}))
    with pytest.raises(SnapshotMiss, match="this view is not in the demo snapshot") as missed:
        sources.prometheus.instant("sum(up)", NOW - timedelta(minutes=1))
    assert missed.value.detail.startswith("prometheus instant sum(up)")  # the call, for an expander
    with pytest.raises(SnapshotMiss) as missed:
        sources.jaeger.operations("gateway")
    assert "operations" in missed.value.detail
    with pytest.raises(SnapshotMiss):
        sources.opensearch.count("logs-*")
    assert sources.prometheus.stats.snapshot().failures == 1


def test_file_layout_and_checksum(live, tmp_path):
    path = tmp_path / "s.json.gz"
    record(live, path)
    document = json.loads(gzip.decompress(path.read_bytes()))
    assert document["format"] == 2
    assert document["recorded_at"] == "2024-03-01T12:00:00Z"
    assert document["anchor"] == "2024-03-01T11:00:00Z"
    assert document["time_range"] == {"start": "2024-01-31T12:00:00Z", "end": "2024-03-01T12:00:00Z"}
    entry = next(
        e for e in document["entries"] if e["method"] == "instant" and e["args"]["query"] == "sum(up)"
    )
    assert entry["backend"] == "prometheus"
    assert entry["args"] == {"query": "sum(up)", "at": "2024-03-01T12:00:00+00:00"}
    assert entry["query_text"] == "sum(up)"
    body = {k: v for k, v in document.items() if k != "sha256"}
    assert document["sha256"] == __import__("hashlib").sha256(snap.canonical_json(body)).hexdigest()


def test_tampered_or_foreign_files_are_refused(live, tmp_path):
    path = tmp_path / "s.json.gz"
    record(live, path)
    document = json.loads(gzip.decompress(path.read_bytes()))
    document["entries"][0]["query_text"] = "edited"
    tampered = tmp_path / "t.json.gz"
    tampered.write_bytes(gzip.compress(json.dumps(document).encode()))
    assert not snap.verify(tampered)
    with pytest.raises(snap.SnapshotFormatError, match="SHA-256"):
        snap.load(tampered)

    not_gzip = tmp_path / "x.json.gz"
    not_gzip.write_text("{}")
    assert not snap.verify(not_gzip)
    wrong_format = tmp_path / "w.json.gz"
    wrong_format.write_bytes(gzip.compress(b'{"format": 99}'))
    with pytest.raises(snap.SnapshotFormatError, match="unsupported snapshot format"):
        snap.load(wrong_format)
    assert not snap.verify(tmp_path / "missing.json.gz")


def test_missing_snapshot_still_builds_and_explains(tmp_path):
    sources = build_sources(load_config({"SEXTANT_SNAPSHOT": str(tmp_path / "none.json.gz")}))
    assert sources.mode == "snapshot" and sources.snapshot_recorded_at is None
    problem = f"The demo snapshot {tmp_path / 'none.json.gz'} is unreadable: there is no such file"
    assert sources.snapshot_problem == problem
    with pytest.raises(SnapshotMiss, match="is unreadable: there is no such file"):
        sources.prometheus.buildinfo()
    health = sources.health()
    assert [h.reachable for h in health] == [False, False, False, False]
    assert health[0].error == problem
    now = sources.now()
    assert now.second == 0 and now.tzinfo is not None
    sources.close()


def test_saving_is_reproducible(live, tmp_path):
    record(live, tmp_path / "a.json.gz")
    record(live, tmp_path / "b.json.gz")
    assert (tmp_path / "a.json.gz").read_bytes() == (tmp_path / "b.json.gz").read_bytes()


def test_recorder_passes_other_attributes_through(live):
    wrapped = snap.Recorder().wrap(live.prometheus)
    assert wrapped.name == "prometheus" and wrapped.url == "http://p"
    assert wrapped.health().reachable


@pytest.mark.parametrize(
    ("live_cls", "replay_cls"),
    [
        (PrometheusClient, snap.SnapshotPrometheusClient),
        (OpenSearchClient, snap.SnapshotOpenSearchClient),
        (JaegerClient, snap.SnapshotJaegerClient),
    ],
)
def test_replay_clients_have_the_live_signatures(live_cls, replay_cls):
    backend = replay_cls.backend
    for method in snap.RECORDED_METHODS[backend] | {"health", "close"}:
        assert inspect.signature(getattr(replay_cls, method)) == inspect.signature(
            getattr(live_cls, method)
        ), method


def test_frame_encoding_keeps_dtypes_and_missing_values():
    frame = pd.DataFrame(
        {
            "s": pd.Series(["a", None], dtype="str"),
            "f": [1.5, float("nan")],
            "i": [1, 2],
            "b": [True, False],
            "t": pd.to_datetime([0, None], unit="s", utc=True),
            "n": pd.to_datetime([0, 1], unit="s"),
            "o": [{"k": 1}, [1, 2]],
        }
    )
    restored = snap.decode(json.loads(json.dumps(snap.encode(frame))))
    assert_frame_equal(restored, frame)


def test_build_sources_live_with_one_backend_missing():
    config = load_config(
        {
            "SEXTANT_PROMETHEUS_URL": "http://p:9090",
            "SEXTANT_PROMETHEUS_TOKEN": "t",
            "SEXTANT_PROMETHEUS_ORG_ID": "org",
            "SEXTANT_OPENSEARCH_URL": "http://o:9200",
        }
    )
    sources = build_sources(config)
    assert sources.mode == "live" and sources.snapshot_recorded_at is None
    assert isinstance(sources.prometheus, PrometheusClient)
    assert isinstance(sources.opensearch, OpenSearchClient)
    assert isinstance(sources.jaeger, NotConfiguredClient)
    now = sources.now()
    assert now.second == 0 and now.microsecond == 0 and now.tzinfo == UTC
    with pytest.raises(BackendUnavailable, match="SEXTANT_JAEGER_URL") as caught:
        sources.jaeger.services()
    assert caught.value.error_type == "not_configured"
    assert sources.jaeger.stats.snapshot().failures == 1
    assert not sources.jaeger.health().reachable
    with pytest.raises(AttributeError):
        sources.jaeger._private  # noqa: B018
    sources.close()


def test_command_line_verify_and_info(live, tmp_path, capsys):
    path = tmp_path / "s.json.gz"
    record(live, path)
    assert snap.main(["verify", str(path)]) == 0
    assert "SHA-256 ok, 14 calls recorded at 2024-03-01 12:00:00+00:00" in capsys.readouterr().out
    assert snap.main(["info", str(path)]) == 0
    assert "prometheus  instant       2" in capsys.readouterr().out
    assert snap.main(["verify", str(tmp_path / "missing.json.gz")]) == 1
    assert "no snapshot at" in capsys.readouterr().err
