"""Unit tests of the simulator's PII masking and of the logs, audit events and traces it derives."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime

import pytest

from stack.simulator import controls, events, model, oncall, pii, probes, sampling
from stack.simulator.load import audit_index, jaeger_base, log_index
from stack.simulator.model import hmrc_outage_start

ANCHOR = model.parse_anchor("2026-03-20T12:00:00Z")
SEED = 7


# ---- PII ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("mail jane.doe+tax@example.co.uk now", "mail [EMAIL] now"),
        ("from J_Smith99@acme-accounts.example.", "from [EMAIL]."),
        ("NI QQ123456C", "NI [NINO]"),
        ("NI qq 12 34 56 c.", "NI [NINO]."),
        ("NINO AB 123456 D ok", "NINO [NINO] ok"),
        ("UTR 1234567890", "UTR [UTR]"),
        ("UTR 12345 67890K", "UTR [UTR]"),
        ("utr:9876543210;", "utr:[UTR];"),
        ("call 07700 900123", "call [PHONE]"),
        ("call 07700900123", "call [PHONE]"),
        ("call +44 7700 900123", "call [PHONE]"),
        ("call +447700900123!", "call [PHONE]!"),
        ("call +44 (0)20 7946 0958", "call [PHONE]"),
        ("call (020) 7946 0958", "call [PHONE]"),
        ("call 020-7946-0958", "call [PHONE]"),
        ("a@b.co and 07700 900123 and QQ123456C and 1234567890", "[EMAIL] and [PHONE] and [NINO] and [UTR]"),
    ],
)
def test_masks_pii(text, masked):
    assert pii.mask(text) == masked
    assert not pii.contains_pii(pii.mask(text))


@pytest.mark.parametrize(
    "text",
    [
        "took 1500 ms at 2026-03-20T12:00:00Z",
        "order 12345678901 (11 digits) and 123456789 (9 digits)",
        "amount 1234567.89 GBP",
        "span 663df16fd68dab3a trace 8c62761a1eb85aee7449335fb16ce63b",
        "receipt 0a1b2c3d4e, period 2026-Q1, doc-0afaf173",
        "",
    ],
)
def test_leaves_other_text_alone(text):
    assert pii.mask(text) == text


def test_masking_is_idempotent():
    text = "jane@example.com 07700 900123 QQ123456C 1234567890"
    assert pii.mask(pii.mask(text)) == pii.mask(text)


# ---- logs, audit, traces --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gen() -> events.EventGenerator:
    return events.EventGenerator(ANCHOR, SEED, model.get_model(ANCHOR, SEED))


@pytest.fixture(scope="module")
def outage_day(gen) -> tuple[int, events.DayEvents]:
    m = gen.model
    day = m.minute(model.scenario("hmrc_outage", ANCHOR).start) // model.DAY_MINUTES
    return day, gen.day(day)


def test_events_are_deterministic(gen, outage_day):
    day, ev = outage_day
    again = events.EventGenerator(ANCHOR, SEED).day(day)
    assert again.logs == ev.logs
    assert again.audit == ev.audit
    assert [[(s.trace_id, s.span_id) for s in t] for t in again.traces] == [
        [(s.trace_id, s.span_id) for s in t] for t in ev.traces
    ]
    other = events.EventGenerator(ANCHOR, SEED + 1).day(day)
    assert other.logs != ev.logs


def test_log_documents_have_the_mapped_fields(outage_day):
    _, ev = outage_day
    fields = {"@timestamp", "service", "level", "tenant", "action", "route", "status", "message"}
    for doc in ev.logs[:2000]:
        assert fields <= doc.keys() <= fields | {"trace_id", "span_id"}
        assert doc["level"] in ("INFO", "WARN", "ERROR")
        assert doc["tenant"] in model.TENANTS or (doc["tenant"], doc["route"]) == (
            probes.TENANT,
            probes.ROUTE,
        )
        assert doc["@timestamp"].endswith("Z")
        assert not pii.contains_pii(doc["message"]), doc["message"]
    assert any("[EMAIL]" in d["message"] for d in ev.logs)
    assert any("[UTR]" in d["message"] for d in ev.logs)
    assert [d["@timestamp"] for d in ev.logs] == sorted(d["@timestamp"] for d in ev.logs)


def test_log_counts_equal_the_http_counters(gen, outage_day):
    day, ev = outage_day
    m = gen.model
    start, end = model.scenario("hmrc_outage", ANCHOR).start, model.scenario("hmrc_outage", ANCHOR).end
    in_window = [d for d in ev.logs if start.isoformat()[:19] <= d["@timestamp"][:19] < end.isoformat()[:19]]
    errors = [d for d in in_window if d["service"] == "filing" and d["level"] == "ERROR"]
    assert (
        len(errors)
        == m.counter_increase("http_requests_total", {"service": "filing", "code": "500"}, start, end)
        > 100  # 85% of four hours of filing requests
    )
    assert all(d["action"] == "hmrc.submit" for d in errors)
    assert all("503 SERVICE_UNAVAILABLE" in d["message"] for d in errors)
    # the whole day: ERROR = 500s and WARN = 400s, per service
    day_start = m.t0 + day * 86400
    levels = Counter((d["service"], d["level"]) for d in ev.logs)
    for service in model.SERVICES:
        for code, level in (("500", "ERROR"), ("400", "WARN")):
            assert levels[(service, level)] == m.counter_increase(
                "http_requests_total", {"service": service, "code": code}, day_start, day_start + 86400
            )
    info = sum(v for (_, lvl), v in levels.items() if lvl == "INFO") - sum(
        d["route"] == probes.ROUTE for d in ev.logs
    )  # the synthetic probes are not platform traffic
    ok = m.counter_increase("http_requests_total", {"code": "200"}, day_start, day_start + 86400)
    assert info == pytest.approx(ok * events.LOG_INFO_SAMPLE, rel=0.1)


def test_every_log_carries_its_trace_and_kept_traces_hold_its_span(outage_day):
    _, ev = outage_day
    spans = {(f"{s.trace_id:032x}", f"{s.span_id:016x}"): s for t in ev.traces for s in t}
    assert all(len(d["trace_id"]) == 32 and len(d["span_id"]) == 16 for d in ev.logs)
    kept = {f"{t[0].trace_id:032x}" for t in ev.traces}
    assert len({d["trace_id"] for d in ev.logs}) == len(ev.logs)  # one trace per logged response
    for doc in (d for d in ev.logs if d["trace_id"] in kept):
        span = spans[(doc["trace_id"], doc["span_id"])]
        assert span.service == doc["service"]
        assert span.attributes["http.status_code"] == int(doc["status"])
        assert span.start_ns <= _ns(doc["@timestamp"]) <= span.end_ns


def test_tail_sampling_keeps_every_failed_and_slow_trace_and_a_share_of_the_rest(outage_day):
    _, ev = outage_day
    kept = {f"{t[0].trace_id:032x}": t for t in ev.traces}
    errors = [d for d in ev.logs if d["level"] == "ERROR"]
    assert errors and all(d["trace_id"] in kept for d in errors)
    # the logged span of a kept trace that did not fail: slow (beyond its route's usual p99), or drawn
    routes = {r.route: r for r in model.ROUTES}
    calm = [
        d
        for d in ev.logs
        if d["level"] != "ERROR"
        and d["service"] not in ("filing", "assistant")
        and d["route"] != probes.ROUTE  # always traced: not sampled
    ]
    slow = [
        d
        for d in calm
        if d["trace_id"] in kept
        and _own_seconds(kept[d["trace_id"]], d["span_id"])
        > routes[d["route"]].median * math.exp(routes[d["route"]].sigma * sampling.SLOW_Z)
    ]
    share = sum(d["trace_id"] in kept for d in calm) / len(calm)
    # kept: the 1% slower than p99, and 2% of the other 99% (binomial noise over thousands of lines)
    assert share == pytest.approx(0.01 + 0.99 * sampling.REST_SHARE, abs=0.006)
    assert len(slow) / len(calm) == pytest.approx(0.01, abs=0.005)


def _own_seconds(trace: list[events.SpanSpec], span_id: str) -> float:
    """The logged span's own time: its duration less its downstream server call (children are inside it)."""
    span = next(s for s in trace if f"{s.span_id:016x}" == span_id)
    downstream = [s for s in trace if s.parent_id == span.span_id and s.kind == "server"]
    busy = (
        span.end_ns
        - span.start_ns
        - sum(s.end_ns - s.start_ns + events.HOP_NS + 1_000_000 for s in downstream)
    )
    return busy / 1e9


def test_lost_traces_drop_only_the_assistant_spans(gen):
    m = gen.model
    lost = model.scenario("traces_lost", ANCHOR)
    day = m.minute(lost.start) // model.DAY_MINUTES
    ev = gen.day(day)
    after = [t for t in ev.traces if t[0].start_ns >= lost.start.timestamp() * 1e9 + 60e9]
    before = [t for t in ev.traces if t[0].end_ns < lost.start.timestamp() * 1e9]
    assert any(s.service == "assistant" for t in before for s in t)
    assert after and not any(s.service == "assistant" for t in after for s in t)
    assistant_logs = [
        d for d in ev.logs if d["service"] == "assistant" and d["@timestamp"] > lost.start.isoformat()
    ]
    assert assistant_logs and all("trace_id" in d for d in assistant_logs)
    gateway = [t for t in after if t[0].name == "POST /api/assistant"]
    assert gateway  # the gateway still sends its part of the assistant's traces


def test_span_trees_are_well_formed(outage_day):
    _, ev = outage_day
    assert ev.traces
    for trace in ev.traces:
        by_id = {s.span_id: s for s in trace}
        roots = [s for s in trace if s.parent_id is None]
        assert len(roots) == 1
        assert len({s.trace_id for s in trace}) == 1
        for s in trace:
            assert s.end_ns > s.start_ns
            if s.parent_id is not None:
                parent = by_id[s.parent_id]
                assert parent.start_ns <= s.start_ns and s.end_ns <= parent.end_ns
    workflow = next(t for t in ev.traces if len({s.service for s in t}) == 5)
    assert [s.service for s in workflow if s.kind == "server"] == [
        "gateway",
        "ingestion",
        "extraction",
        "reconciliation",
        "filing",
    ]
    assistant = next(t for t in ev.traces if any(s.service == "assistant" for s in t))
    assert {s.name for s in assistant} >= {
        "POST /api/assistant",
        "POST /assistant/answer",
        "retrieve",
        "generate",
    }


def test_outage_traces_show_hmrc_503(outage_day):
    _, ev = outage_day
    outage = model.scenario("hmrc_outage", ANCHOR)
    lo, hi = outage.start.timestamp() * 1e9, outage.end.timestamp() * 1e9
    failing = [
        s for t in ev.traces for s in t if s.name == "hmrc.submit" and s.error and lo <= s.start_ns < hi
    ]
    assert len(failing) > 10
    assert all(s.attributes["http.status_code"] == 503 for s in failing)
    assert all(s.attributes["hmrc.error_code"] == "SERVICE_UNAVAILABLE" for s in failing)
    filing = [
        s for t in ev.traces for s in t if s.name == "POST /vat/returns" and s.error and lo <= s.start_ns < hi
    ]
    assert filing and all(
        s.attributes["error"] is True and s.attributes["http.status_code"] == 500 for s in filing
    )


def test_audit_logins_equal_the_login_counters(gen):
    m = gen.model
    burst = model.scenario("failed_logins_burst", ANCHOR)
    day = m.minute(burst.start) // model.DAY_MINUTES
    audit = gen.audit(day)
    day_start = m.t0 + day * 86400
    for result in ("success", "failure"):
        n = sum(1 for d in audit if d["action"] == f"login.{result}")
        assert n == m.counter_increase("auth_logins_total", {"result": result}, day_start, day_start + 86400)
    lo, hi = burst.start.isoformat()[:19], burst.end.isoformat()[:19]
    from_burst = [d for d in audit if d["source_ip"] == "198.51.100.66" and lo <= d["@timestamp"][:19] < hi]
    assert len(from_burst) == 40 * 30
    assert all(d["action"] == "login.failure" and d["outcome"] == "failure" for d in from_burst)
    actions = {d["action"] for d in audit}
    assert actions >= {"login.success", "login.failure", "assistant.action"}
    for d in audit:
        assert d["source_ip"].startswith(("192.0.2.", "198.51.100."))
        assert not pii.contains_pii(d["details"])


def test_audit_events_equal_the_audit_counter_per_action(gen):
    m = gen.model
    missing = model.scenario("audit_kind_missing", ANCHOR)
    unapproved = controls.scenario("unapproved_export", ANCHOR).start  # the audit log's extra export
    for day in (
        m.minute(missing.start) // model.DAY_MINUTES - 1,
        m.minute(missing.start) // model.DAY_MINUTES + 2,
        m.minute(unapproved) // model.DAY_MINUTES,
    ):
        audit = gen.audit(day)
        day_start = m.t0 + day * 86400
        counts = Counter(d["action"] for d in audit)
        for action in oncall.AUDIT_ACTIONS:
            expected = m.counter_increase(
                "audit_events_total", {"action": action}, day_start, day_start + 86400
            )
            assert counts[action] == expected, (day, action)
    inside = [
        d for d in gen.audit(m.minute(missing.start) // model.DAY_MINUTES + 2) if d["action"] == "data.export"
    ]
    assert inside == []


def test_regression_deployments_are_audited(gen):
    m = gen.model
    start = model.scenario("extraction_regression", ANCHOR).start
    audit = gen.audit(m.minute(start) // model.DAY_MINUTES)
    deploys = [d for d in audit if d["actor"] == "svc:deploy-bot"]
    assert len(deploys) == 1 and "extract-v42" in deploys[0]["details"]


def test_incidents_cover_every_scenario():
    docs = events.incidents(ANCHOR)
    assert {d["name"] for d in docs} == {s.name for s in model.scenarios(ANCHOR)}
    outage = next(d for d in docs if d["name"] == "hmrc_outage")
    assert outage["start"] == hmrc_outage_start(ANCHOR).isoformat().replace("+00:00", "Z")
    assert next(d for d in docs if d["name"] == "secret_rotation_overdue")["end"] is None


def test_index_names_and_jaeger_url(monkeypatch):
    assert log_index("2026-03-20T12:00:00.000Z") == "logs-2026.03.20"
    assert audit_index("2026-03-20T12:00:00.000Z") == "audit-2026.03"
    monkeypatch.delenv("SEXTANT_JAEGER_URL", raising=False)
    monkeypatch.delenv("SEXTANT_JAEGER_QUERY_PORT", raising=False)
    assert jaeger_base("http://127.0.0.1:4318/v1/traces") == "http://127.0.0.1:16686"
    monkeypatch.setenv("SEXTANT_JAEGER_QUERY_PORT", "26686")
    assert jaeger_base("http://127.0.0.1:4318/v1/traces") == "http://127.0.0.1:26686"


def test_readable_spans_carry_service_and_ids(outage_day):
    from opentelemetry.trace import StatusCode

    from stack.simulator.load import _readable_spans

    _, ev = outage_day
    trace = next(t for t in ev.traces if any(s.error for s in t))
    spans = list(_readable_spans([trace]))
    assert len(spans) == len(trace)
    for spec, span in zip(trace, spans, strict=True):
        assert span.resource.attributes["service.name"] == spec.service
        assert span.context.trace_id == spec.trace_id and span.context.span_id == spec.span_id
        assert (span.parent.span_id if span.parent else None) == spec.parent_id
        assert (span.start_time, span.end_time) == (spec.start_ns, spec.end_ns)
        assert (span.status.status_code == StatusCode.ERROR) == spec.error


def _ns(stamp: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000) * 1_000_000


def test_every_service_is_probed_twice_an_hour_and_its_probe_traced_unless_its_traces_are_lost(gen):
    m = gen.model
    lost = model.scenario(oncall.TRACES_LOST, ANCHOR)
    day = m.minute(lost.start) // model.DAY_MINUTES  # the day the assistant's exporter breaks
    ev = gen.day(day, with_audit=False)
    probed = [d for d in ev.logs if d["route"] == probes.ROUTE]
    traced = {f"{t[0].trace_id:032x}" for t in ev.traces if t[0].name == f"GET {probes.ROUTE}"}
    for service in model.SERVICES:
        mine = sorted(d["@timestamp"] for d in probed if d["service"] == service)
        assert len(mine) == 2 * 24
        hours = Counter(stamp[11:13] for stamp in mine)
        assert set(hours.values()) == {2}
        for doc in (d for d in probed if d["service"] == service):
            at = datetime.fromisoformat(doc["@timestamp"].replace("Z", "+00:00"))
            gone = service == oncall.TRACES_LOST_SERVICE and at >= lost.start
            assert (doc["trace_id"] in traced) is not gone, (service, doc["@timestamp"])


def test_days_older_than_a_week_keep_a_fifth_of_the_traces(gen):
    m = gen.model
    old, recent = 2, model.HISTORY_DAYS - 2  # 28 and 2 days before the anchor
    assert sampling.share(model.HISTORY_DAYS - old) == sampling.OLDER_SHARE
    assert sampling.share(model.HISTORY_DAYS - recent) == 1.0

    def kept_errors(day: int) -> float:
        ev = gen.day(day, with_audit=False)
        kept = {f"{t[0].trace_id:032x}" for t in ev.traces}
        errors = [d for d in ev.logs if d["level"] == "ERROR"]
        return sum(d["trace_id"] in kept for d in errors) / len(errors)

    assert kept_errors(recent) == 1.0  # every failed trace of a recent day
    assert kept_errors(old) == pytest.approx(sampling.OLDER_SHARE, abs=0.06)
    assert m.minute(m.anchor) // model.DAY_MINUTES == model.HISTORY_DAYS
