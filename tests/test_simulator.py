"""Unit tests of the simulator's model, text formats and exporter (no servers needed)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
import pytest

from stack.simulator import model
from stack.simulator.exporter import Exposition, make_handler
from stack.simulator.exposition import openmetrics_day, prometheus_text

ANCHOR = model.parse_anchor("2026-03-20T12:00:00Z")  # a Friday, noon
SEED = 7
H = timedelta(hours=1)
README = Path(__file__).resolve().parents[1] / "stack" / "simulator" / "README.md"


@pytest.fixture(scope="module")
def m() -> model.Model:
    return model.get_model(ANCHOR, SEED)


def window(name: str) -> tuple[datetime, datetime]:
    s = model.scenario(name, ANCHOR)
    return s.start, s.end


def share(m: model.Model, metric: str, part: dict, whole: dict, start, end) -> float:
    return m.counter_increase(metric, part, start, end) / m.counter_increase(metric, whole, start, end)


# ---- time and catalogue -------------------------------------------------------------------------------


def test_parse_anchor_accepts_z_and_offsets_and_floors_to_the_minute():
    assert model.parse_anchor("2026-03-20T12:00:00Z") == datetime(2026, 3, 20, 12, tzinfo=UTC)
    assert model.parse_anchor("2026-03-20T13:00:00+01:00") == datetime(2026, 3, 20, 12, tzinfo=UTC)
    assert model.parse_anchor("2026-03-20T12:00:42.5Z") == datetime(2026, 3, 20, 12, tzinfo=UTC)
    assert model.default_anchor(datetime(2026, 3, 20, 12, 34, 56, tzinfo=UTC)) == datetime(
        2026, 3, 20, 12, tzinfo=UTC
    )


def test_catalogue_matches_the_readme_contract():
    text = README.read_text()
    table = text.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", table, flags=re.M))
    exported = {s.family if s.family_type == "histogram" else s.name for s in model.catalogue()}
    assert exported == documented
    assert 350 <= len(model.catalogue()) <= 420  # the platform's 271 series and the evidence modules'
    for tenant in model.TENANTS:
        assert f"`{tenant}`" in text
    for r in model.ROUTES:
        assert f"`{r.route}`" in text
    keys = [s.key for s in model.catalogue()]
    assert len(keys) == len(set(keys))


def test_histogram_le_labels_are_the_documented_strings():
    les = {s.label_dict["le"] for s in model.find("http_request_duration_seconds_bucket")}
    assert les == {"0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}
    assert {s.label_dict["le"] for s in model.find("reconciliation_duration_seconds_bucket")} == {
        "60",
        "300",
        "900",
        "1800",
        "3600",
        "7200",
        "+Inf",
    }


def test_accepted_submissions_have_no_error_code_label():
    (accepted_vat,) = model.find("hmrc_submissions_total", {"kind": "vat", "result": "accepted"})
    assert "error_code" not in accepted_vat.label_dict
    assert model.find("hmrc_submissions_total", {"error_code": ""}) == model.find(
        "hmrc_submissions_total", {"result": "accepted"}
    )


def test_scenarios_have_the_readme_windows():
    by_name = {s.name: s for s in model.scenarios(ANCHOR)}
    assert set(by_name) == {
        "hmrc_outage",
        "extraction_regression",
        "vat_backlog",
        "assistant_latency_spike",
        "failed_logins_burst",
        "secret_rotation_overdue",
        "backup_missed",
        "audit_kind_missing",
        "traces_lost",
    }
    outage = model.hmrc_outage_start(ANCHOR)  # 15:00 UTC on the day of ANCHOR - 60 h
    assert (by_name["hmrc_outage"].start, by_name["hmrc_outage"].end) == (outage, outage + 4 * H)
    assert by_name["extraction_regression"].start == ANCHOR - timedelta(days=6)
    assert by_name["extraction_regression"].end == ANCHOR - timedelta(days=4)
    assert (by_name["vat_backlog"].start, by_name["vat_backlog"].end) == (ANCHOR - 10 * H, ANCHOR + 2 * H)
    assert by_name["assistant_latency_spike"].start == ANCHOR - 27 * H
    assert by_name["assistant_latency_spike"].end == ANCHOR - 25.5 * H
    assert by_name["failed_logins_burst"].start == ANCHOR - 5 * H
    assert by_name["failed_logins_burst"].end == ANCHOR - 4.5 * H
    assert by_name["secret_rotation_overdue"].start == ANCHOR - timedelta(days=7)
    assert (by_name["backup_missed"].start, by_name["backup_missed"].end) == (
        ANCHOR - 20 * H,
        ANCHOR - 16 * H,
    )
    assert by_name["audit_kind_missing"].start == ANCHOR - timedelta(days=9)
    assert by_name["audit_kind_missing"].end == ANCHOR - timedelta(days=1)
    assert (by_name["traces_lost"].start, by_name["traces_lost"].end) == (ANCHOR - 3 * H, None)
    assert by_name["secret_rotation_overdue"].end is None
    assert by_name["hmrc_outage"].services == ("filing",)


# ---- determinism ----------------------------------------------------------------------------------------


def test_same_seed_and_anchor_give_identical_data():
    a = model.Model(ANCHOR, SEED).day_data(12)
    b = model.Model(ANCHOR.isoformat(), SEED).day_data(12)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_another_seed_gives_other_noise_but_the_same_shape():
    a = model.Model(ANCHOR, SEED).day_data(12)
    b = model.Model(ANCHOR, SEED + 1).day_data(12)
    key = model.series_key(
        "http_requests_total", {"service": "gateway", "route": "/api/upload", "code": "200"}
    )
    assert not np.array_equal(a[key], b[key])
    assert abs(a[key].sum() / b[key].sum() - 1) < 0.02


def test_ranges_are_the_same_whichever_way_they_are_cut(m):
    (s,) = model.find("http_requests_total", {"service": "extraction", "code": "200"})
    whole = m.raw(s, 1000, 5000)
    parts = np.concatenate([m.raw(s, 1000, 1440), m.raw(s, 1440, 2900), m.raw(s, 2900, 5000)])
    np.testing.assert_array_equal(whole, parts)
    assert m.counter_value_raw(s, 5000) - m.counter_value_raw(s, 1000) == whole.sum()


def test_rng_streams_are_stable_across_processes():
    # the stream for a key is fixed by a hash of the key, not by Python's randomised hash()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from stack.simulator import model; print(model.rng_for(7, 'route:x', 3).integers(10**9))",
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        env={"PYTHONHASHSEED": "123", "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert int(out.stdout) == int(model.rng_for(7, "route:x", 3).integers(10**9))


# ---- counters and histograms ----------------------------------------------------------------------------


@pytest.mark.parametrize("day", [0, 23, 27, 29, 30])  # 23/27/29: scenario days; 30: live (after A)
def test_counters_never_decrease_and_histograms_are_consistent(m, day):
    data = m.day_data(day)
    for s in model.catalogue():
        if s.kind == "counter":
            assert (data[s.key] >= 0).all(), s.key
    for r in model.ROUTES:
        labels = {"service": r.service, "route": r.route}
        buckets = np.stack(
            [
                data[model.series_key("http_request_duration_seconds_bucket", {**labels, "le": le})]
                for le in model.HTTP_LE
            ]
        )
        assert (np.diff(buckets, axis=0) >= 0).all()
        count = data[model.series_key("http_request_duration_seconds_count", labels)]
        np.testing.assert_array_equal(buckets[-1], count)
        requests = sum(
            data[model.series_key("http_requests_total", {**labels, "code": c})] for c in model.CODES
        )
        np.testing.assert_array_equal(count, requests)
        assert (data[model.series_key("http_request_duration_seconds_sum", labels)] >= 0).all()
    recon = np.stack(
        [
            data[model.series_key("reconciliation_duration_seconds_bucket", {"le": le})]
            for le in model.RECON_LE
        ]
    )
    assert (np.diff(recon, axis=0) >= 0).all()
    np.testing.assert_array_equal(
        recon[4], data[model.series_key("reconciliation_jobs_total", {"result": "within_sla"})]
    )
    fraud = sum(data[s.key] for s in model.find("fraud_prevention_headers_total"))
    hmrc = sum(data[s.key] for s in model.find("hmrc_submissions_total"))
    np.testing.assert_array_equal(fraud, hmrc)
    answers = data[model.series_key("assistant_answer_duration_seconds_count", {})]
    ok = data[
        model.series_key(
            "http_requests_total", {"service": "assistant", "route": "/assistant/answer", "code": "200"}
        )
    ]
    np.testing.assert_array_equal(answers, ok)


def test_counter_helpers_agree(m):
    start, end = ANCHOR - 30 * H, ANCHOR - 20 * H
    total = m.counter_increase("http_requests_total", {"service": "filing"}, start, end)
    assert total == m.counter_value("http_requests_total", {"service": "filing"}, end) - m.counter_value(
        "http_requests_total", {"service": "filing"}, start
    )
    assert total == m.increments("http_requests_total", {"service": "filing"}, start, end).sum()
    assert total == model.counter_increase(
        "http_requests_total", {"service": "filing"}, start, end, ANCHOR, SEED
    )
    # counters start at 0 at A - 30d
    assert m.counter_value("http_requests_total", {}, ANCHOR - timedelta(days=30)) == 0


def test_baseline_rates(m):
    start, end = ANCHOR - timedelta(days=29), ANCHOR - timedelta(days=7)
    p400 = share(m, "http_requests_total", {"code": "400"}, {}, start, end)
    p500 = share(
        m, "http_requests_total", {"code": "500", "service": "gateway"}, {"service": "gateway"}, start, end
    )
    assert p400 == pytest.approx(0.01, rel=0.05)
    assert p500 == pytest.approx(0.001, rel=0.15)
    assert share(m, "hmrc_submissions_total", {"result": "rejected"}, {}, start, end) == pytest.approx(
        0.015, rel=0.1
    )
    assert share(m, "hmrc_submissions_total", {"result": "error"}, {}, start, end) == pytest.approx(
        0.002, rel=0.25
    )
    assert share(
        m, "fraud_prevention_headers_total", {"result": "complete"}, {}, start, end
    ) == pytest.approx(0.9995, abs=0.0003)
    assert share(m, "reconciliation_jobs_total", {"result": "within_sla"}, {}, start, end) == pytest.approx(
        0.98, abs=0.005
    )
    assert share(m, "assistant_feedback_total", {"rating": "positive"}, {}, start, end) == pytest.approx(
        0.85, abs=0.02
    )
    for doc, accuracy in model.ACCURACY.items():
        assert share(
            m,
            "extraction_documents_total",
            {"document_type": doc, "outcome": "correct"},
            {"document_type": doc},
            start,
            end,
        ) == pytest.approx(accuracy, abs=0.005)


def test_traffic_follows_the_uk_working_day(m):
    def rate(t):
        return m.counter_increase("http_requests_total", {}, t, t + H) / 3600

    wednesday = ANCHOR - timedelta(days=2)  # 2026-03-18, 12:00 UTC = 12:00 GMT
    assert rate(wednesday) > 10
    assert rate(wednesday.replace(hour=2)) < 0.1 * rate(wednesday)
    sunday_noon = ANCHOR - timedelta(days=5)
    assert rate(sunday_noon) < 0.25 * rate(wednesday)
    # the curve follows UK local time: 07:30 UTC is 07:30 GMT on 18 March, 08:30 BST on 31 March
    gmt, bst = model.working_day_curve(
        np.array(
            [
                datetime(2026, 3, 18, 7, 30, tzinfo=UTC).timestamp(),
                datetime(2026, 3, 31, 7, 30, tzinfo=UTC).timestamp(),
            ]
        )
    )
    assert bst > gmt + 0.3


def test_median_assistant_answer_is_about_one_and_a_half_seconds(m):
    start, end = ANCHOR - timedelta(days=20), ANCHOR - timedelta(days=10)
    le1 = m.counter_increase("assistant_answer_duration_seconds_bucket", {"le": "1"}, start, end)
    le2 = m.counter_increase("assistant_answer_duration_seconds_bucket", {"le": "2"}, start, end)
    total = m.counter_increase("assistant_answer_duration_seconds_count", {}, start, end)
    assert le1 / total < 0.5 < le2 / total
    mean = m.counter_increase("assistant_answer_duration_seconds_sum", {}, start, end) / total
    assert 1.4 < mean < 2.2


# ---- scenarios ------------------------------------------------------------------------------------------


def test_hmrc_outage(m):
    start, end = window("hmrc_outage")
    unavailable = share(m, "hmrc_submissions_total", {"error_code": "SERVICE_UNAVAILABLE"}, {}, start, end)
    assert unavailable == pytest.approx(0.85, abs=0.03)
    assert (
        m.counter_increase(
            "hmrc_submissions_total", {"error_code": "SERVICE_UNAVAILABLE"}, start - 20 * H, start
        )
        == 0
    )
    assert (
        m.counter_increase("hmrc_submissions_total", {"error_code": "SERVICE_UNAVAILABLE"}, end, ANCHOR) == 0
    )
    filing_500 = share(
        m, "http_requests_total", {"service": "filing", "code": "500"}, {"service": "filing"}, start, end
    )
    assert filing_500 == pytest.approx(0.85, abs=0.03)
    other_500 = share(
        m, "http_requests_total", {"service": "gateway", "code": "500"}, {"service": "gateway"}, start, end
    )
    assert other_500 < 0.01

    def mean_latency(a, b):
        labels = {"service": "filing"}
        return m.counter_increase("http_request_duration_seconds_sum", labels, a, b) / m.counter_increase(
            "http_request_duration_seconds_count", labels, a, b
        )

    assert mean_latency(start, end) / mean_latency(start - 7 * 24 * H, end - 7 * 24 * H) == pytest.approx(
        4, rel=0.1
    )
    # the service itself stays up: HMRC is external
    assert m.gauge_value("service_up", {"service": "filing"}, start + H) == 1


def test_extraction_regression(m):
    start, end = window("extraction_regression")
    expected = {"invoice": 0.88, "receipt": 0.90, "bank_statement": 0.985, "payslip": 0.99}
    for doc, accuracy in expected.items():
        got = share(
            m,
            "extraction_documents_total",
            {"document_type": doc, "outcome": "correct"},
            {"document_type": doc},
            start,
            end,
        )
        assert got == pytest.approx(accuracy, abs=0.012), doc
    # the hourly accuracy gauge is exactly correct / all over the previous hour
    t = start + 30 * H
    correct = m.counter_increase(
        "extraction_documents_total", {"document_type": "invoice", "outcome": "correct"}, t - H, t
    )
    total = m.counter_increase("extraction_documents_total", {"document_type": "invoice"}, t - H, t)
    assert m.gauge_value("extraction_accuracy_ratio", {"document_type": "invoice"}, t) == pytest.approx(
        correct / total, abs=1e-6
    )
    assert m.gauge_value("service_up", {"service": "extraction"}, start) == 0
    assert m.gauge_value("service_up", {"service": "extraction"}, start + timedelta(minutes=2)) == 1


def test_vat_backlog(m):
    start, end = window("vat_backlog")
    for queue in ("extraction", "reconciliation"):
        before = m.gauge_value("queue_depth", {"queue": queue}, start - H)
        at_anchor = m.gauge_value("queue_depth", {"queue": queue}, ANCHOR)
        assert before < 300
        assert at_anchor == pytest.approx(4000 * 10 / 12, rel=0.05)
        assert m.gauge_value("queue_oldest_item_age_seconds", {"queue": queue}, ANCHOR) == pytest.approx(
            6 * 3600 * 10 / 12, rel=0.05
        )
        depths = m.gauge_series("queue_depth", {"queue": queue}, start + H, ANCHOR)
        assert (np.diff(depths[::60]) > 0).all()  # grows hour by hour
        assert m.gauge_value("queue_depth", {"queue": queue}, end) < 300
    assert m.gauge_value("queue_depth", {"queue": "ingestion"}, ANCHOR) < 300
    for tenant in model.TENANTS:
        backlog = m.gauge_value("tenant_backlog_documents", {"tenant": tenant}, ANCHOR)
        if tenant in model.BACKLOG_TENANTS:
            assert backlog > 1000
        else:
            assert backlog < 300
    breached = share(m, "reconciliation_jobs_total", {"result": "breached_sla"}, {}, ANCHOR - 4 * H, ANCHOR)
    assert breached == pytest.approx(0.30, abs=0.05)
    # readiness of the three tenants is pulled down, the others keep rising toward the deadline
    for tenant in model.TENANTS:
        before = m.gauge_value(
            "filing_readiness_component_ratio", {"tenant": tenant, "component": "approved"}, start
        )
        now = m.gauge_value(
            "filing_readiness_component_ratio", {"tenant": tenant, "component": "approved"}, ANCHOR
        )
        if tenant in model.BACKLOG_TENANTS:
            assert now < before - 0.15
        else:
            assert now >= before - 0.02


def test_assistant_latency_spike(m):
    start, end = window("assistant_latency_spike")

    def mean(a, b):
        return m.counter_increase("assistant_answer_duration_seconds_sum", {}, a, b) / m.counter_increase(
            "assistant_answer_duration_seconds_count", {}, a, b
        )

    assert mean(start, end) / mean(start - 24 * H, end - 24 * H) == pytest.approx(8, rel=0.15)
    assert share(m, "assistant_feedback_total", {"rating": "positive"}, {}, start, end) < 0.7


def test_failed_logins_burst(m):
    start, end = window("failed_logins_burst")
    per_minute = m.increments("auth_logins_total", {"result": "failure"}, start, end)
    assert len(per_minute) == 30
    assert (per_minute >= 40).all()
    before = m.increments("auth_logins_total", {"result": "failure"}, start - H, start)
    assert before.max() < 10


def test_secrets_and_backups(m):
    def rotated(secret, t):
        return m.gauge_value("secret_last_rotated_timestamp_seconds", {"secret": secret}, t)

    assert rotated("hmrc-oauth-client-secret", ANCHOR) == (ANCHOR - timedelta(days=97)).timestamp()
    for secret in model.SECRETS:
        if secret != "hmrc-oauth-client-secret":
            age = ANCHOR.timestamp() - rotated(secret, ANCHOR - timedelta(minutes=1))
            assert 0 <= age <= 30 * 86400
            # never in the future, at any time of the history
            for days in range(0, 30, 3):
                t = ANCHOR - timedelta(days=days)
                assert rotated(secret, t) <= t.timestamp()
    for target in model.BACKUPS:
        t = ANCHOR - timedelta(hours=3, minutes=7)
        last = m.gauge_value("backup_last_success_timestamp_seconds", {"target": target}, t)
        assert t.timestamp() - 86400 < last <= t.timestamp()
    assert (
        ANCHOR.timestamp()
        - m.gauge_value("backup_last_success_timestamp_seconds", {"target": "postgres"}, ANCHOR)
        <= 900
    )


def test_readiness_and_obligations_stay_in_range(m):
    for day in (0, 15, 29):
        data = m.day_data(day)
        for tenant in model.TENANTS:
            for c in model.READINESS_COMPONENTS:
                v = data[
                    model.series_key("filing_readiness_component_ratio", {"tenant": tenant, "component": c})
                ]
                assert ((v >= 0.5) & (v <= 1.0)).all()
            for ob in ("vat", "itsa_quarterly"):
                due = data[model.series_key("filing_obligations_due", {"tenant": tenant, "obligation": ob})]
                ready = data[
                    model.series_key("filing_obligations_ready", {"tenant": tenant, "obligation": ob})
                ]
                assert (due > 0).all() and (ready <= due).all() and (ready >= 0).all()
    early = m.gauge_value(
        "filing_readiness_component_ratio",
        {"tenant": "acme-accounts", "component": "approved"},
        ANCHOR - timedelta(days=25),
    )
    late = m.gauge_value(
        "filing_readiness_component_ratio",
        {"tenant": "acme-accounts", "component": "approved"},
        ANCHOR - timedelta(days=1),
    )
    assert late > early + 0.2


# ---- text formats ---------------------------------------------------------------------------------------


def test_openmetrics_day_format(m, tmp_path):
    minutes = 10
    data = {k: v[:minutes] for k, v in m.day_data(3).items()}
    offsets = {s.key: 1000 for s in model.catalogue() if s.kind == "counter"}
    ts = m.t0 + 60 * (3 * 1440 + np.arange(minutes))
    text = openmetrics_day(data, offsets, ts, {"job": "simulator", "instance": "127.0.0.1:19100"})
    assert text.endswith("# EOF\n")
    lines = text.splitlines()
    types = [ln for ln in lines if ln.startswith("# TYPE ")]
    assert len(types) == len(set(types)) == len(model.families()) + 1  # and the scrape's `up`
    assert "# TYPE up gauge" in types
    assert "# TYPE http_requests counter" in types
    assert "# TYPE http_request_duration_seconds histogram" in types
    samples: dict[str, list[tuple[int, str]]] = {}
    for ln in lines:
        if ln.startswith("#"):
            continue
        name, value, stamp = ln.rsplit(" ", 2)
        assert re.fullmatch(r"\d{10}", stamp), ln  # seconds, not milliseconds
        assert 'job="simulator"' in name and 'instance="127.0.0.1:19100"' in name
        float(value)
        samples.setdefault(name, []).append((int(stamp), value))
    assert len(samples) == len(model.catalogue()) + 1
    assert [v for _, v in samples['up{instance="127.0.0.1:19100",job="simulator"}']] == ["1"] * minutes
    for series in samples.values():
        stamps = [t for t, _ in series]
        assert stamps == sorted(stamps) and len(stamps) == minutes
    key = (
        'http_requests_total{code="200",instance="127.0.0.1:19100",job="simulator",'
        'route="/extract",service="extraction"}'
    )
    inc = data[
        model.series_key("http_requests_total", {"service": "extraction", "route": "/extract", "code": "200"})
    ]
    # the value at a minute counts the minutes before it, on top of the offset
    assert [int(v) for _, v in samples[key]] == list(1000 + np.concatenate([[0], np.cumsum(inc)[:-1]]))
    sum_key = next(k for k in samples if k.startswith("http_request_duration_seconds_sum"))
    assert all(re.fullmatch(r"\d+\.\d{3}", v) for _, v in samples[sum_key])
    if shutil.which("promtool"):
        path = tmp_path / "day.om"
        path.write_text(text)
        out = subprocess.run(
            ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(path), str(tmp_path / "blocks")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        assert any((tmp_path / "blocks").iterdir())


def test_prometheus_text_is_continuous_with_the_backfill(m):
    minute = model.HISTORY_MINUTES  # the anchor: the first live sample
    values = m.values_at(minute)
    text = prometheus_text(values)
    for s in model.catalogue():
        if s.kind == "counter":
            backfilled = sum(int(m.chunk(s.group, d)[s.key].sum()) for d in range(model.HISTORY_DAYS))
            assert values[s.key] == backfilled, s.key
    line = next(
        ln
        for ln in text.splitlines()
        if ln.startswith('hmrc_submissions_total{error_code="SERVICE_UNAVAILABLE"')
    )
    assert float(line.rsplit(" ", 1)[1]) == m.counter_value(
        "hmrc_submissions_total", {"error_code": "SERVICE_UNAVAILABLE", "kind": "vat"}, ANCHOR
    )
    assert "# TYPE http_requests_total counter" in text
    assert "# TYPE http_request_duration_seconds histogram" in text
    if shutil.which("promtool"):
        out = subprocess.run(
            ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, check=False
        )
        assert out.returncode == 0, out.stdout + out.stderr


def test_exporter_serves_the_current_minute():
    anchor = model.default_anchor(datetime.now(UTC) - timedelta(hours=3))
    expo = Exposition(anchor.isoformat(), SEED)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(expo))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert httpx.get(base + "/healthz").text == "ok\n"
        assert httpx.get(base + "/nope").status_code == 404
        before = time.time()
        response = httpx.get(base + "/metrics", timeout=30)
        after = time.time()
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        line = next(
            ln for ln in response.text.splitlines() if ln.startswith('auth_logins_total{result="success"}')
        )
        value = float(line.rsplit(" ", 1)[1])
        candidates = {
            expo.model.counter_value("auth_logins_total", {"result": "success"}, t) for t in (before, after)
        }
        assert value in candidates
        assert value > expo.model.counter_value(
            "auth_logins_total", {"result": "success"}, anchor - timedelta(days=1)
        )
    finally:
        server.shutdown()
        server.server_close()
