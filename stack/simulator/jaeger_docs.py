"""Spans written straight into Jaeger's OpenSearch indices, in the documents Jaeger v1.75's OpenSearch
storage writes and reads (``jaeger-span-YYYY-MM-DD``, ``jaeger-service-YYYY-MM-DD``, one index per UTC day).

Loading 30 days of sampled traces through Jaeger's OTLP receiver cost the stack's start about a minute: every
span was encoded as protobuf in the loader, decoded and converted by Jaeger, and written by its bulk
processor beside the loader's own bulk of logs. The loader now writes the same documents in its own bulk:
each span as Jaeger's writer stores a span received over OTLP from the simulator (read back from a stack
loaded the old way: the OTel scope and the attributes as ``tags``, the span kind and the error flag in the
``tag`` map with ``.`` written ``@``, the resource as ``process``), and one service document per service,
operation and day, as Jaeger's writer keeps them for ``/api/services`` and the operations lists.
``tests/test_jaeger_storage.py`` reads them back through Jaeger's API. Jaeger's own index templates (it
creates them when it starts, before the load) give these indices their mappings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from .events import SpanSpec

SPAN_PREFIX = "jaeger-span-"
SERVICE_PREFIX = "jaeger-service-"
FLAGS = 256  # what Jaeger stored for the simulator's OTLP spans (OTLP's "is remote" bit known, not remote)
SCOPE = (("otel.scope.name", "stack.simulator"), ("otel.scope.version", "1.0"))
RESOURCE = (
    ("telemetry.sdk.language", "python"),
    ("telemetry.sdk.name", "opentelemetry"),
    ("service.namespace", "tax-platform"),
    ("deployment.environment", "simulation"),
)


def day_index(prefix: str, start_ns: int) -> str:
    return prefix + datetime.fromtimestamp(start_ns / 1e9, UTC).strftime("%Y-%m-%d")


def tag(key: str, value: Any) -> dict[str, Any]:
    """One key/value tag with Jaeger's type name."""
    kind = (
        "bool" if isinstance(value, bool) else "int64" if isinstance(value, int)
        else "float64" if isinstance(value, float) else "string"
    )  # fmt: skip
    return {"key": key, "type": kind, "value": value if kind != "string" else str(value)}


def _process(service: str) -> dict[str, Any]:
    instance = hashlib.blake2b(service.encode(), digest_size=16).hexdigest()
    tags = [tag(k, v) for k, v in RESOURCE] + [tag("service.instance.id", instance)]
    return {"serviceName": service, "tags": tags}


def span_document(sp: SpanSpec) -> dict[str, Any]:
    trace_id, span_id = f"{sp.trace_id:032x}", f"{sp.span_id:016x}"
    references = (
        [{"refType": "CHILD_OF", "traceID": trace_id, "spanID": f"{sp.parent_id:016x}"}]
        if sp.parent_id
        else None
    )
    tags = [tag(k, v) for k, v in SCOPE] + [tag(k, v) for k, v in sp.attributes.items() if k != "error"]
    fields: dict[str, Any] = {"span@kind": sp.kind}
    if sp.error:
        tags.append(tag("otel.status_description", "error"))
        fields["error"] = True
    return {
        "traceID": trace_id,
        "spanID": span_id,
        "flags": FLAGS,
        "operationName": sp.name,
        "references": references,
        "startTime": sp.start_ns // 1000,
        "startTimeMillis": sp.start_ns // 1_000_000,
        "duration": (sp.end_ns - sp.start_ns) // 1000,
        "tags": tags,
        "tag": fields,
        "logs": None,
        "process": _process(sp.service),
    }


def actions(traces: Iterable[list[SpanSpec]], seen: set[tuple[str, str, str]]) -> Iterator[dict[str, Any]]:
    """Bulk actions for every span of `traces`, and a service document for each (day, service, operation)
    not in `seen` yet (`seen` is updated)."""
    for trace in traces:
        for sp in trace:
            index = day_index(SPAN_PREFIX, sp.start_ns)
            yield {
                "_index": index,
                "_id": f"{sp.trace_id:032x}-{sp.span_id:016x}",
                "_source": span_document(sp),
            }
            service = (index[len(SPAN_PREFIX) :], sp.service, sp.name)
            if service not in seen:
                seen.add(service)
                key = hashlib.blake2b("|".join(service[1:]).encode(), digest_size=8).hexdigest()
                yield {
                    "_index": SERVICE_PREFIX + service[0],
                    "_id": key,
                    "_source": {"serviceName": sp.service, "operationName": sp.name},
                }


def indices(days: Iterable[int], t0: int) -> list[str]:
    """The span and service indices of the loaded days (`t0`: the model's first second)."""
    dates = {
        datetime.fromtimestamp(t0 + 86400 * d + s, UTC).strftime("%Y-%m-%d") for d in days for s in (0, 86399)
    }
    return sorted(prefix + date for prefix in (SPAN_PREFIX, SERVICE_PREFIX) for date in dates)
