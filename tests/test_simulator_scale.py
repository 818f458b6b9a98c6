"""The simulator at a scale above 1 (`--scale N`): N times the services, routes, firms and SLOs, the trace
fan-out N times, the demo's own series unchanged."""

from __future__ import annotations

import re

import pytest

from app.slo.loader import load_definitions
from stack.simulator import events, model, slos

ANCHOR = "2026-11-28T02:00:00Z"


@pytest.fixture
def scale():
    """`scale(n)` switches the simulator to scale n; the demo's scale comes back afterwards."""
    yield model.use_scale
    model.use_scale(1)


def test_scale_one_is_the_demo(scale):
    before = [s.key for s in model.catalogue()]
    scale(1)
    assert [s.key for s in model.catalogue()] == before
    assert model.SERVICES == model.BASE_SERVICES and model.TENANTS == model.BASE_TENANTS


def test_scale_copies_services_routes_and_firms_and_keeps_the_demos_series(scale):
    demo = model.Model(ANCHOR, 7).day_data(29)
    scale(3)
    assert len(model.SERVICES) == 18 and len(model.ROUTES) == 27 and len(model.TENANTS) == 24
    assert model.label_values("service_up", "service")[:3] == ["assistant", "assistant-2", "assistant-3"]
    assert model.OBLIGATIONS_VAT["cobalt-cpa-3"] == model.OBLIGATIONS_VAT["cobalt-cpa"]
    scaled = model.Model(ANCHOR, 7).day_data(29)
    assert all((scaled[key] == values).all() for key, values in demo.items())
    copy = model.series_key(
        "http_requests_total", {"service": "filing-2", "route": "/vat/returns", "code": "200"}
    )
    original = copy.replace("filing-2", "filing")
    assert scaled[copy].sum() > 0 and not (scaled[copy] == scaled[original]).all()  # noise of its own


def test_route_paths_multiply_the_routes_keeping_the_original_routes_series(scale):
    demo = model.Model(ANCHOR, 7).day_data(29)
    scale(2, route_paths=3)
    assert len(model.SERVICES) == 12 and len(model.ROUTES) == 2 * 3 * len(model.BASE_ROUTES)
    paths = sorted(r.route for r in model.ROUTES if r.service == "extraction-2")
    assert paths == ["/extract", "/extract/v2", "/extract/v3"]
    base = {(r.service, r.route): r.rate for r in model.ROUTES}
    assert base[("gateway", "/api/upload/v3")] == pytest.approx(base[("gateway", "/api/upload")] / 3)
    scaled = model.Model(ANCHOR, 7).day_data(29)
    assert all((scaled[key] == values).all() for key, values in demo.items())  # the demo's routes unchanged
    tail = model.series_key(
        "http_requests_total", {"service": "filing", "route": "/vat/returns/v2", "code": "200"}
    )
    head = tail.replace("/v2", "")
    assert 0 < scaled[tail].sum() < scaled[head].sum()  # a third of the route's rate, noise of its own
    day = events.EventGenerator(ANCHOR, 7).day(29, with_audit=False)
    assert "/extract/v3" in {log.get("route") for log in day.logs}
    scale(1)
    assert model.ROUTES == model.BASE_ROUTES


def test_trace_fan_out_grows_with_the_scale_on_the_original_services(scale):
    scale(3)
    day = events.EventGenerator(ANCHOR, 7).day(29, with_audit=False)
    assert {log["service"] for log in day.logs} >= {"gateway-3", "filing-2"}
    workflow = next(t for t in day.traces if t[0].name == "POST /api/upload" and t[0].service == "gateway")
    assert sum(sp.name == "ocr" for sp in workflow) == 3  # called three times by the one extraction span
    assert len({sp.span_id for sp in workflow}) == len(workflow)
    replica = next(t for t in day.traces if t[0].service == "gateway-2" and len(t) > 2)
    assert {sp.service for sp in replica} <= {f"{s}-2" for s in model.BASE_SERVICES}
    assert sum(sp.name == "ocr" for sp in replica) <= 1


def test_slo_definitions_of_a_scale_copy_every_slo_onto_its_replica(tmp_path):
    slos.write_definitions(2, tmp_path)
    loaded, shipped = load_definitions(tmp_path), load_definitions()
    assert loaded.errors == () and len(loaded.definitions) == 2 * len(shipped.definitions)
    copy = loaded.by_name()["filing-availability-2"]
    queries = " ".join(re.findall(r'service="[^"]*"', str(copy)))
    assert 'service="filing-2"' in queries and 'service="filing"' not in queries
