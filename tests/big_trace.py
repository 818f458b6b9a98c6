"""A synthetic big trace (a batch of tax returns filed in one request), for the grouping tests and the bench.

Shape, deterministic from `n` and `trace_id`: gateway `POST /api/filings/batch` → filing `submit batch` →
one `prepare return` per return, each with two `db.query`, an extraction `POST /extract` (→ `ml.infer`)
and an `hmrc.submit`: six spans per return, returns eight at a time. Every `fail_every`-th hmrc.submit
fails with HTTP 503. Spans left over (n - 2 not a multiple of 6) are `audit.write` under the batch.
"""

from __future__ import annotations

import pandas as pd

from stack.simulator.events import SpanSpec

PER_RETURN = 6
PARALLEL = 8
MS = 1_000_000  # nanoseconds


def big_trace(
    n: int, start_ns: int, trace_id: int = 0xB16, fail_every: int = 97, root_service: str = "gateway"
) -> list[SpanSpec]:
    """`n` spans (n >= 2) of one trace starting at `start_ns`, entering through `root_service`."""
    ids = iter(range(1, n + 1))
    spans: list[SpanSpec] = []

    def span(service, name, parent, start, duration_ms, error=False, attributes=None) -> SpanSpec:
        kind = "server" if parent is None or name.startswith(("POST", "submit")) else "internal"
        made = SpanSpec(
            service,
            name,
            kind,
            trace_id,
            next(ids),
            parent,
            start,
            start + int(duration_ms * MS),
            dict(attributes or {}),
            error,
        )
        spans.append(made)
        return made

    returns, extra = divmod(n - 2, PER_RETURN)
    rounds = -(-returns // PARALLEL) if returns else 0
    per_return_ms = 40.0
    total_ms = 10 + rounds * (per_return_ms + 2) + extra * 1.0 + 10
    root = span(root_service, "POST /api/filings/batch", None, start_ns, total_ms)
    batch = span("filing", "submit batch", root.span_id, start_ns + 5 * MS, total_ms - 10)
    t0 = batch.start_ns + 2 * MS
    for r in range(returns):
        begin = t0 + int((r // PARALLEL) * (per_return_ms + 2) * MS)
        prepare = span("filing", "prepare return", batch.span_id, begin, per_return_ms)
        span("filing", "db.query", prepare.span_id, begin + 1 * MS, 3 + r % 3)
        span("filing", "db.query", prepare.span_id, begin + 5 * MS, 2)
        extract = span("extraction", "POST /extract", prepare.span_id, begin + 8 * MS, 18)
        span("extraction", "ml.infer", extract.span_id, begin + 10 * MS, 14 + r % 5)
        failed = fail_every > 0 and r % fail_every == fail_every - 1
        attributes = {"http.status_code": 503, "otel.status_description": "HMRC 503"} if failed else {}
        span("filing", "hmrc.submit", prepare.span_id, begin + 27 * MS, 12, failed, attributes)
    after = t0 + int(rounds * (per_return_ms + 2) * MS)
    for k in range(extra):
        span("filing", "audit.write", batch.span_id, after + k * MS, 0.5)
    return spans


def spans_frame(spans: list[SpanSpec]) -> pd.DataFrame:
    """The spans as `app.sources.jaeger.spans_frame` gives them (what `Trace.spans` holds)."""
    frame = pd.DataFrame(
        {
            "span_id": [f"{s.span_id:016x}" for s in spans],
            "parent_id": [f"{s.parent_id:016x}" if s.parent_id else None for s in spans],
            "service": [s.service for s in spans],
            "operation": [s.name for s in spans],
            "start": pd.to_datetime([s.start_ns // 1000 for s in spans], unit="us", utc=True),
            "duration_ms": [(s.end_ns - s.start_ns) / 1e6 for s in spans],
            "error": [s.error for s in spans],
            "tags": [
                {**{k: v for k, v in s.attributes.items()}, **({"error": True} if s.error else {})}
                for s in spans
            ],
        }
    )
    return frame.sort_values("start", kind="stable").reset_index(drop=True)
