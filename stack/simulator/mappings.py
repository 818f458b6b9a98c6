"""The mappings of the simulator's OpenSearch indices (stack/simulator/README.md, "Logs, audit events and
incidents"): the one declaration of a log line's fields, which the loader, the benchmarks and the tests that
plant log lines of their own create their indices with."""

from __future__ import annotations

LOG_FIELDS_KEYWORD = ("service", "level", "tenant", "trace_id", "span_id", "action", "route", "status")
LOG_MAPPING = {
    "dynamic": "strict",
    "properties": {
        "@timestamp": {"type": "date"},
        **{f: {"type": "keyword"} for f in LOG_FIELDS_KEYWORD},
        "message": {"type": "text"},
    },
}
AUDIT_MAPPING = {
    "dynamic": "strict",
    "properties": {
        "@timestamp": {"type": "date"},
        **{
            f: {"type": "keyword"}
            for f in ("actor", "tenant", "action", "outcome", "source_ip", "approved_by")
        },
        "details": {"type": "text"},
    },
}
INCIDENT_MAPPING = {
    "dynamic": "strict",
    "properties": {
        "name": {"type": "keyword"},
        "title": {"type": "keyword"},
        "start": {"type": "date"},
        "end": {"type": "date"},
        "services": {"type": "keyword"},
        "description": {"type": "text"},
    },
}
