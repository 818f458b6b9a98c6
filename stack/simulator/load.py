"""``load``: logs, audit events and incident annotations into OpenSearch; traces into Jaeger over OTLP/HTTP.

What is written covers the 30 days of history and ``AHEAD_DAYS`` after the anchor, with their future
timestamps: every page asks about windows that end at "now", so the last hour has logs and traces for as long
as the stack runs within those days, as live metrics have from the exporter.

Idempotent: the simulator's indices (``logs-*``, ``audit-*``, ``incidents``, ``security-findings``) and
Jaeger's (``jaeger-span-*``, ``jaeger-service-*``: Jaeger keeps its traces in the same OpenSearch) are deleted
first, and the simulator's recreated with explicit mappings. Jaeger caches the services it has written, so
after a reload into a Jaeger that kept running, restart it (``stack/up.sh`` always starts both afresh for a
load).
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

import httpx

from . import controls, events, model
from .mappings import AUDIT_MAPPING, INCIDENT_MAPPING, LOG_MAPPING

# refresh and translog fsync are relaxed while loading, and restored (1 s, per request) at the end
INDEX_SETTINGS = {
    "number_of_shards": 1,
    "number_of_replicas": 0,
    "refresh_interval": "-1",
    "translog.durability": "async",
    "translog.sync_interval": "30s",
}
TEMPLATE_SETTINGS = {"number_of_shards": 1, "number_of_replicas": 0}
INCIDENTS_INDEX = "incidents"
JAEGER_INDICES = "jaeger-span-*,jaeger-service-*,jaeger-dependencies-*"
SPAN_BATCH = 2000
AHEAD_DAYS = 2  # days written after the anchor


def log_index(timestamp: str) -> str:
    """``logs-YYYY.MM.DD`` of an RFC 3339 UTC timestamp."""
    return f"logs-{timestamp[0:4]}.{timestamp[5:7]}.{timestamp[8:10]}"


def audit_index(timestamp: str) -> str:
    """``audit-YYYY.MM`` (monthly: audit volume is small)."""
    return f"audit-{timestamp[0:4]}.{timestamp[5:7]}"


def _log(msg: str) -> None:
    print(f"[simulator load] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------
# OpenSearch


def _client(url: str):
    from opensearchpy import OpenSearch

    return OpenSearch(hosts=[url], timeout=120, max_retries=3, retry_on_timeout=True, http_compress=False)


def reset_indices(client, index_names: dict[str, dict]) -> None:
    """Deletes the simulator's indices and creates ``index_names`` (name -> mapping).

    Index templates for ``logs-*`` and ``audit-*`` carry the same mappings, so an index created later by
    someone else's write gets them too. Creation runs on a few threads without waiting for each shard:
    OpenSearch batches the cluster-state updates, three times faster than one index after the other.
    """
    for name, pattern, mapping in (
        ("sextant-logs", "logs-*", LOG_MAPPING),
        ("sextant-audit", "audit-*", AUDIT_MAPPING),
    ):
        client.indices.put_index_template(
            name=name,
            body={
                "index_patterns": [pattern],
                "template": {"settings": TEMPLATE_SETTINGS, "mappings": mapping},
            },
        )
    existing = client.indices.get(
        index=f"logs-*,audit-*,{INCIDENTS_INDEX},{controls.FINDINGS_INDEX},{JAEGER_INDICES}",
        allow_no_indices=True,
        ignore_unavailable=True,
        expand_wildcards="all",
    )
    names = sorted(existing)
    if names:
        with ThreadPoolExecutor(4) as pool:
            list(
                pool.map(
                    lambda i: client.indices.delete(index=",".join(names[i : i + 10])),
                    range(0, len(names), 10),
                )
            )

    def create(item: tuple[str, dict]) -> None:
        name, mapping = item
        client.indices.create(
            index=name, body={"settings": INDEX_SETTINGS, "mappings": mapping}, wait_for_active_shards="0"
        )

    # not waiting for each shard lets the master batch the creations; then wait for all of them at once
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, sorted(index_names.items())))
    deadline = time.monotonic() + 120
    while True:  # each call waits up to OpenSearch's default 30 s (the client cannot pass ?timeout=)
        health = client.cluster.health(
            index=",".join(sorted(index_names)), wait_for_status="green", ignore=408
        )
        if not health.get("timed_out"):
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"the simulator's indices did not become green: {health}")


def load_opensearch(
    client, gen: events.EventGenerator, days: range, on_traces: Callable[[list], None]
) -> dict:
    """Bulk-loads the days' logs and audit events; hands each day's traces to ``on_traces``."""
    from opensearchpy import helpers

    t0 = time.monotonic()
    m = gen.model
    log_indices = {log_index(events.iso_ms((m.t0 + 86400 * d + s) * 1000)) for d in days for s in (0, 86399)}
    audit_indices = {
        audit_index(events.iso_ms((m.t0 + 86400 * d + s) * 1000)) for d in days for s in (0, 86399)
    }
    wanted = {name: LOG_MAPPING for name in log_indices}
    wanted.update({name: AUDIT_MAPPING for name in audit_indices})
    wanted[INCIDENTS_INDEX] = INCIDENT_MAPPING
    wanted[controls.FINDINGS_INDEX] = controls.FINDINGS_MAPPING
    reset_indices(client, wanted)
    _log(f"{len(wanted)} indices recreated in {time.monotonic() - t0:.1f} s")
    counts = {"logs": 0, "audit": 0, "incidents": 0, "findings": 0}

    def actions() -> Iterator[dict]:
        for doc in events.incidents(m.anchor):
            counts["incidents"] += 1
            yield {"_index": INCIDENTS_INDEX, "_id": doc["name"], "_source": doc}
        for doc in controls.findings(m.anchor):
            counts["findings"] += 1
            yield {"_index": controls.FINDINGS_INDEX, "_id": doc["id"], "_source": doc}
        for _day, ev in gen.days(days.start, days.stop):
            on_traces(ev.traces)
            for doc in ev.logs:
                counts["logs"] += 1
                yield {"_index": log_index(doc["@timestamp"]), "_source": doc}
            for doc in ev.audit:
                counts["audit"] += 1
                yield {"_index": audit_index(doc["@timestamp"]), "_source": doc}

    errors: list = []
    for ok, item in helpers.parallel_bulk(
        client,
        actions(),
        thread_count=2,
        chunk_size=5000,
        queue_size=4,
        raise_on_error=False,
        raise_on_exception=True,
        request_timeout=120,
    ):
        if not ok:
            errors.append(item)
    if errors:
        raise RuntimeError(f"{len(errors)} documents were refused by OpenSearch, e.g. {errors[:3]}")
    _log(f"bulk done after {time.monotonic() - t0:.1f} s")
    names = ",".join(sorted(wanted))
    client.indices.put_settings(
        index=names, body={"index": {"refresh_interval": "1s", "translog.durability": "request"}}
    )
    client.indices.refresh(index=names)
    stored = {
        "logs": client.count(index="logs-*")["count"],
        "audit": client.count(index="audit-*")["count"],
        "incidents": client.count(index=INCIDENTS_INDEX)["count"],
        "findings": client.count(index=controls.FINDINGS_INDEX)["count"],
    }
    if stored != counts:
        raise RuntimeError(f"OpenSearch holds {stored} documents, {counts} were sent")
    return {**counts, "indices": len(wanted)}


# ---------------------------------------------------------------------------------------------------------
# Traces


def _readable_spans(traces: list[list[events.SpanSpec]]):
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

    kinds = {"server": SpanKind.SERVER, "client": SpanKind.CLIENT, "internal": SpanKind.INTERNAL}
    resources: dict[str, Resource] = {}  # per service, as a real service sends its own

    def resource(service: str) -> Resource:
        if service not in resources:
            resources[service] = Resource.create(
                {
                    "service.name": service,
                    "service.namespace": "tax-platform",
                    "deployment.environment": "simulation",
                }
            )
        return resources[service]

    scope = InstrumentationScope("stack.simulator", "1.0")
    flags = TraceFlags(TraceFlags.SAMPLED)
    ok, failed = Status(StatusCode.UNSET), Status(StatusCode.ERROR, "error")
    for trace in traces:
        for sp in trace:
            ctx = SpanContext(sp.trace_id, sp.span_id, is_remote=False, trace_flags=flags)
            parent = (
                SpanContext(sp.trace_id, sp.parent_id, is_remote=False, trace_flags=flags)
                if sp.parent_id
                else None
            )
            yield ReadableSpan(
                name=sp.name,
                context=ctx,
                parent=parent,
                resource=resource(sp.service),
                attributes=sp.attributes,
                kind=kinds[sp.kind],
                status=failed if sp.error else ok,
                start_time=sp.start_ns,
                end_time=sp.end_ns,
                instrumentation_scope=scope,
            )


class TraceSender:
    """Exports traces on a background thread while OpenSearch loads (OTLP/HTTP, batches of spans)."""

    def __init__(self, otlp_url: str):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        self.url = otlp_url
        self.exporter = OTLPSpanExporter(endpoint=otlp_url, timeout=60)
        self.queue: queue.Queue = queue.Queue(maxsize=8)
        self.traces: list[list[events.SpanSpec]] = []
        self.spans = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="trace-sender", daemon=True)
        self.thread.start()

    def put(self, traces: list[list[events.SpanSpec]]) -> None:
        if self.error:
            raise RuntimeError(f"OTLP export to {self.url} failed: {self.error}")
        self.traces.extend(traces)
        self.queue.put(traces)

    def _run(self) -> None:
        from opentelemetry.sdk.trace.export import SpanExportResult

        batch: list = []
        while True:
            item = self.queue.get()
            if self.error is not None:
                if item is None:
                    return
                continue  # drain after a failure
            try:
                for span in _readable_spans(item or []):
                    batch.append(span)
                    if len(batch) >= SPAN_BATCH:
                        self._send(batch, SpanExportResult.SUCCESS)
                        batch = []
                if item is None:
                    if batch:
                        self._send(batch, SpanExportResult.SUCCESS)
                    return
            except BaseException as exc:  # noqa: BLE001 (reported by close())
                self.error = exc
                if item is None:
                    return

    def _send(self, batch: list, success) -> None:
        if self.exporter.export(batch) != success:
            raise RuntimeError("the exporter reported a failure (see its log above)")
        self.spans += len(batch)

    def abandon(self) -> None:
        self.error = self.error or RuntimeError("abandoned")
        self.queue.put(None)
        self.thread.join(timeout=30)

    def close(self) -> int:
        self.queue.put(None)
        self.thread.join()
        self.exporter.shutdown()
        if self.error:
            raise RuntimeError(f"OTLP export to {self.url} failed: {self.error}")
        return self.spans


def export_traces(traces: list[list[events.SpanSpec]], otlp_url: str) -> int:
    """Sends every span to the OTLP/HTTP endpoint in batches; raises when a batch is refused."""
    sender = TraceSender(otlp_url)
    sender.put(traces)
    return sender.close()


def jaeger_base(otlp_url: str) -> str:
    """Jaeger's query API: $SEXTANT_JAEGER_URL, else the OTLP host on $SEXTANT_JAEGER_QUERY_PORT or 16686."""
    if os.environ.get("SEXTANT_JAEGER_URL"):
        return os.environ["SEXTANT_JAEGER_URL"].rstrip("/")
    host = urlparse(otlp_url).hostname or "127.0.0.1"
    return f"http://{host}:{os.environ.get('SEXTANT_JAEGER_QUERY_PORT', '16686')}"


def verify_jaeger(
    jaeger_url: str, traces: list[list[events.SpanSpec]], before_ns: int, timeout: float = 60.0
) -> None:
    """Waits until Jaeger lists every service and returns the first and last trace that started before
    ``before_ns`` (Jaeger looks a trace id up in the indices up to today only); raises otherwise."""
    wanted = {sp.service for trace in traces for sp in trace}
    past = [trace for trace in traces if trace and trace[0].start_ns < before_ns]
    probes = [f"{past[0][0].trace_id:032x}", f"{past[-1][0].trace_id:032x}"] if past else []
    deadline = time.monotonic() + timeout
    last = ""
    with httpx.Client(timeout=10) as http:
        while True:
            try:
                services = set(http.get(f"{jaeger_url}/api/services").json().get("data") or [])
                missing = wanted - services
                found = all(http.get(f"{jaeger_url}/api/traces/{t}").status_code == 200 for t in probes)
                if not missing and found:
                    return
                last = f"missing services {sorted(missing)}" if missing else f"traces {probes} not found"
            except (httpx.HTTPError, ValueError) as exc:
                last = repr(exc)
            if time.monotonic() > deadline:
                raise RuntimeError(f"Jaeger at {jaeger_url} does not show the loaded traces: {last}")
            time.sleep(0.5)


# ---------------------------------------------------------------------------------------------------------


def load(
    anchor: str,
    seed: int,
    opensearch_url: str | None,
    otlp_url: str | None,
    jaeger_url: str | None = None,
    days: range | None = None,
) -> dict:
    started = time.monotonic()
    days = days or range(0, model.HISTORY_DAYS + AHEAD_DAYS)
    gen = events.EventGenerator(anchor, seed)
    sender = TraceSender(otlp_url) if otlp_url else None
    traces: list[list[events.SpanSpec]] = []
    on_traces = sender.put if sender else traces.extend
    summary: dict = {"anchor": gen.model.anchor.isoformat(), "seed": seed}
    try:
        if opensearch_url:
            summary.update(load_opensearch(_client(opensearch_url), gen, days, on_traces))
            summary["opensearch_seconds"] = round(time.monotonic() - started, 1)
            _log(f"OpenSearch: {summary}")
        else:
            for _day, ev in gen.days(days.start, days.stop):
                on_traces(ev.traces)
    except BaseException:
        if sender:
            sender.abandon()
        raise
    spans = sender.close() if sender else 0
    if sender:
        summary["traces"] = len(sender.traces)
        summary["spans"] = spans
        verify_jaeger(jaeger_url or jaeger_base(otlp_url), sender.traces, time.time_ns())
        summary["traces_done_seconds"] = round(time.monotonic() - started, 1)
    summary["seconds"] = round(time.monotonic() - started, 1)
    return summary
