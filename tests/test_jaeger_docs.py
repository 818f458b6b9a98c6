"""The spans the loader writes into Jaeger's OpenSearch indices are the documents Jaeger v1.75's own writer
stored for the same spans received over OTLP (one read back from a stack loaded that way, below); the
integration tests (test_jaeger_storage, test_traces_page) read them back through Jaeger's API."""

from __future__ import annotations

from stack.simulator import jaeger_docs
from stack.simulator.events import SpanSpec

# An extraction span as Jaeger stored it in jaeger-span-2026-11-22 (its process tags left out: one is a
# random instance id, one the SDK's version).
STORED_BY_JAEGER = {
    "traceID": "6745de9c5a95c4c1ad7e10c71ebb6173",
    "spanID": "1cb2d0bc03afc87c",
    "flags": 256,
    "operationName": "POST /extract",
    "references": [
        {"refType": "CHILD_OF", "traceID": "6745de9c5a95c4c1ad7e10c71ebb6173", "spanID": "152906331fb64ce0"}
    ],
    "startTime": 1795318579984725,
    "startTimeMillis": 1795318579984,
    "duration": 209274,
    "tags": [
        {"key": "otel.scope.name", "type": "string", "value": "stack.simulator"},
        {"key": "otel.scope.version", "type": "string", "value": "1.0"},
        {"key": "http.method", "type": "string", "value": "POST"},
        {"key": "http.status_code", "type": "int64", "value": 500},
        {"key": "tenant", "type": "string", "value": "acme-accounts"},
        {"key": "http.route", "type": "string", "value": "/extract"},
        {"key": "model.version", "type": "string", "value": "extract-v41"},
        {"key": "otel.status_description", "type": "string", "value": "error"},
    ],
    "tag": {"error": True, "span@kind": "server"},
    "logs": None,
}
SPAN = SpanSpec(
    "extraction",
    "POST /extract",
    "server",
    0x6745DE9C5A95C4C1AD7E10C71EBB6173,
    0x1CB2D0BC03AFC87C,
    0x152906331FB64CE0,
    1795318579984725000,
    1795318579984725000 + 209274000,
    {
        "http.method": "POST",
        "http.status_code": 500,
        "tenant": "acme-accounts",
        "http.route": "/extract",
        "error": True,
        "model.version": "extract-v41",
    },
    True,
)


def test_a_span_document_is_the_one_jaeger_stores():
    doc = jaeger_docs.span_document(SPAN)
    process = doc.pop("process")
    assert doc == STORED_BY_JAEGER
    assert process["serviceName"] == "extraction"
    tags = {t["key"]: t["value"] for t in process["tags"]}
    assert tags["service.namespace"] == "tax-platform" and tags["deployment.environment"] == "simulation"


def test_a_root_span_has_no_reference_and_a_quiet_one_no_error():
    root = SpanSpec(
        "gateway", "GET /healthz", "server", 7, 9, None, 10**18, 10**18 + 5 * 10**6, {"synthetic": True}
    )
    doc = jaeger_docs.span_document(root)
    assert doc["references"] is None and doc["tag"] == {"span@kind": "server"}
    assert {"key": "synthetic", "type": "bool", "value": True} in doc["tags"]
    assert doc["traceID"] == f"{7:032x}" and doc["duration"] == 5000


def test_spans_go_to_the_index_of_their_day_with_one_service_document_per_operation_and_day():
    seen: set = set()
    actions = list(jaeger_docs.actions([[SPAN], [SPAN]], seen))
    spans = [a for a in actions if a["_index"].startswith(jaeger_docs.SPAN_PREFIX)]
    services = [a for a in actions if a["_index"].startswith(jaeger_docs.SERVICE_PREFIX)]
    assert {a["_index"] for a in spans} == {"jaeger-span-2026-11-22"} and len(spans) == 2
    assert services == [
        {
            "_index": "jaeger-service-2026-11-22",
            "_id": services[0]["_id"],
            "_source": {"serviceName": "extraction", "operationName": "POST /extract"},
        }
    ]
